/** What @koa/router leaves on the context: every layer whose path matched, in order. */
export interface RoutedContext {
  readonly matched?: ReadonlyArray<{ readonly path: string | RegExp; readonly methods: readonly string[] }>;
}

/**
 * The route template of the request (`/admin/clients/:id`), never its URL, so the label has as
 * many values as there are routes. @koa/router's own `_matchedRoute` is not used: a router-level
 * middleware that answers before the route (bearer authentication's 401) leaves its own path
 * there. The last layer that serves the method wins; a path served for other methods only (405)
 * is still that route; nothing matched is `unmatched` (404s of any URL are one series).
 */
export function routeTemplate(ctx: RoutedContext, method: string): string {
  const layers = ctx.matched;
  if (!layers || layers.length === 0) return 'unmatched';
  let anyRoute: string | RegExp | undefined;
  for (let index = layers.length - 1; index >= 0; index -= 1) {
    const layer = layers[index]!;
    if (layer.methods.length === 0) continue;
    if (layer.methods.includes(method)) return String(layer.path);
    anyRoute ??= layer.path;
  }
  return anyRoute === undefined ? 'unmatched' : String(anyRoute);
}

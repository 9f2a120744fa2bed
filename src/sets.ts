/** Whether two lists hold the same items, order aside, with the same length: ['x', 'x'] is not ['x', 'y']. */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && new Set([...a, ...b]).size === new Set(a).size;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createHotPaths } from '../../src/http/hot-paths';
import { instrument } from '../../src/metrics/instrument';
import { createTestDeps } from '../support/deps';

// Issue 16: the Grafana dashboard in deploy/grafana/ uses the metrics the service exposes, so a
// renamed metric cannot leave a panel silently empty.

const file = path.resolve(__dirname, '../../deploy/grafana/portcullis-dashboard.json');

describe('deploy/grafana/portcullis-dashboard.json', () => {
  const dashboard = JSON.parse(readFileSync(file, 'utf8')) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }> };
  const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr));

  it('queries only metrics the service exposes', async () => {
    const deps = await createTestDeps();
    const instrumented = instrument(deps, createHotPaths(deps).health);
    try {
      const exposed = new Set((await instrumented.metrics.registry.getMetricsAsJSON()).map((metric) => metric.name));
      const used = new Set(expressions.flatMap((expr) => [...expr.matchAll(/\b((?:portcullis|process|nodejs)_\w+)/g)].map((match) => match[1]!.replace(/_(bucket|count|sum)$/, ''))));
      expect(used.size).toBeGreaterThan(10);
      for (const name of used) expect(exposed).toContain(name);
    } finally {
      instrumented.stop();
      await deps.cleanup();
    }
  });

  it('has the panels an operator looks at first', () => {
    const titles = dashboard.panels.map((panel) => panel.title);
    for (const title of ['Request rate by route', 'Error rate by route (4xx and 5xx)', 'p99 latency by route', 'Logins and failures', 'Refresh: rotations, grace replays, reuse detections', 'Password-hash queue depth']) {
      expect(titles).toContain(title);
    }
    expect(expressions.some((expr) => expr.includes('histogram_quantile(0.99') && expr.includes('portcullis_http_request_duration_seconds_bucket') && expr.includes('route'))).toBe(true);
  });
});

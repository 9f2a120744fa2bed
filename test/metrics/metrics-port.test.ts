import { ConfigError, loadConfig } from '../../src/config/config';
import { startService, type Service } from '../../src/main';
import { tempDir } from '../support/env';

// Issue 16: the metrics have a listener of their own (METRICS_PORT), never the API's, and none at
// all unless METRICS_PORT is set.

const baseEnv = (): Record<string, string> => ({ NODE_ENV: 'test', LOG_LEVEL: 'silent', PORT: '0', HOST: '127.0.0.1', DATA_DIR: tempDir(), ARGON2_MEMORY_KIB: '8192', ARGON2_TIME_COST: '1' });

describe('the metrics listener', () => {
  let service: Service | undefined;
  afterEach(async () => {
    await service?.stop('test');
    service = undefined;
  });

  it('serves /metrics on METRICS_PORT and not on the API port', async () => {
    service = await startService({ ...baseEnv(), METRICS_PORT: '0' });
    const metricsPort = service.metrics?.port;
    expect(metricsPort).toBeDefined();
    expect(metricsPort).not.toBe(service.http.port);

    const api = `http://127.0.0.1:${service.http.port}`;
    expect((await fetch(`${api}/healthz`)).status).toBe(200);
    expect((await fetch(`${api}/metrics`)).status).toBe(404);

    const scraped = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    expect(scraped.status).toBe(200);
    const text = await scraped.text();
    expect(text).toMatch(/^portcullis_http_requests_total\{method="GET",route="\/healthz",code="200"\} 1$/m);
    // The API's 404 for /metrics is an unrouted request like any other.
    expect(text).toMatch(/^portcullis_http_requests_total\{method="GET",route="unmatched",code="404"\} 1$/m);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/healthz`)).status).toBe(404);
  });

  it('is off, and nothing is measured, when METRICS_PORT is unset', async () => {
    service = await startService(baseEnv());
    expect(service.metrics).toBeUndefined();
    expect((await fetch(`http://127.0.0.1:${service.http.port}/metrics`)).status).toBe(404);
  });
});

describe('METRICS_PORT and METRICS_HOST', () => {
  const problems = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(env);
      return [];
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
  };

  it('defaults to off, and the host to HOST', () => {
    expect(loadConfig({}).metricsPort).toBeUndefined();
    expect(loadConfig({ METRICS_PORT: '9464', HOST: '0.0.0.0' })).toMatchObject({ metricsPort: 9464, metricsHost: '0.0.0.0' });
    expect(loadConfig({ METRICS_PORT: '9464', METRICS_HOST: '10.0.0.5' }).metricsHost).toBe('10.0.0.5');
  });

  it('refuses the API port, a bad port, and a host without a port', () => {
    expect(problems({ PORT: '8080', METRICS_PORT: '8080' })).toEqual([expect.stringMatching(/^METRICS_PORT: must differ from PORT/)]);
    expect(problems({ METRICS_PORT: '70000' })).toEqual([expect.stringMatching(/^METRICS_PORT: must be a port/)]);
    expect(problems({ METRICS_HOST: '0.0.0.0' })).toEqual([expect.stringMatching(/^METRICS_HOST: only read with METRICS_PORT/)]);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestParley, type TestParley } from '../../test/test-parley.ts';

// Operations (OP-5) and the API's self-description (CH-7).

let t: TestParley;

beforeAll(async () => {
  t = await startTestParley({ config: { workers: false } });
});
afterAll(async () => t?.stop());

describe('operations endpoints', () => {
  it('answers /healthz with the database engine, and echoes or makes a request id', async () => {
    const res = await fetch(`${t.baseUrl}/healthz`, { headers: { 'x-request-id': 'req-123' } });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', database: t.engine });
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const other = await fetch(`${t.baseUrl}/healthz`);
    expect(other.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('exposes Prometheus metrics, request durations and error codes included', async () => {
    await fetch(`${t.baseUrl}/api/v1/conversations`); // a 401, counted by code
    const res = await fetch(`${t.baseUrl}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE parley_http_request_duration_seconds histogram');
    expect(text).toMatch(/parley_http_errors_total\{code="PARLEY_ERR_UNAUTHENTICATED"\} [1-9]/);
    expect(text).toContain('parley_websocket_connections');
  });

  it('serves the agent app under a policy that runs only its own scripts and cannot be framed', async () => {
    const res = await fetch(`${t.baseUrl}/app/`);
    expect(res.status).toBe(200); // built by the test command before the tests run
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('publishes an OpenAPI document with every /api/v1 route and a browsable docs page', async () => {
    const doc = (await (await fetch(`${t.baseUrl}/api/openapi.json`)).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toMatch(/^3\./);
    for (const path of ['/api/v1/conversations', '/api/v1/conversations/{id}/messages', '/api/v1/webhooks', '/api/v1/widget/conversation']) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    // Every route documents its success response.
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        if (method === 'options' || path.includes('/attachments/{id}')) continue;
        expect(Object.keys(op.responses ?? {}).some((code) => code.startsWith('2')), `${method} ${path}`).toBe(true);
      }
    }
    const page = await fetch(`${t.baseUrl}/api/docs/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('swagger');
  });
});

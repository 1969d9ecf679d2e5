import { describe, expect, it } from 'vitest';
import { OpenApiContract } from '../../support/openapi-contract';

// The check every end-to-end answer goes through (test/support/local-stack.ts): it must see what is wrong.
const contract = new OpenApiContract();
const job = {
  id: 'job_01jdq8m5x2v7k9a3b4c6d8e0fg',
  path: '/v1/jobs/job_01jdq8m5x2v7k9a3b4c6d8e0fg',
};
const problem = (status: number, type: string) =>
  JSON.stringify({ type, title: 'Not found', status, detail: 'No such job', request_id: '5f0c6a52-8a4e-4c39-9d43-0b1f1b1c2d3e' });
const jsonHeaders = { 'content-type': 'application/problem+json', 'x-request-id': '5f0c6a52-8a4e-4c39-9d43-0b1f1b1c2d3e' };

describe('the OpenAPI contract check of the test stack', () => {
  it('passes an answer as documented', () => {
    expect(contract.check({ method: 'GET', path: job.path, status: 404, headers: jsonHeaders, body: problem(404, 'not_found') })).toEqual([]);
  });

  it('reports a status the operation does not document', () => {
    expect(contract.check({ method: 'GET', path: job.path, status: 418, headers: jsonHeaders, body: problem(418, 'not_found') })).toEqual([
      expect.stringMatching(/GET \/v1\/jobs\/\{id\}\) → 418: undocumented status/),
    ]);
  });

  it('reports a problem type the status does not carry, and a body that does not match', () => {
    const [typeError] = contract.check({ method: 'GET', path: job.path, status: 404, headers: jsonHeaders, body: problem(404, 'teapot') });
    expect(typeError).toMatch(/the body does not match the document/);
    const [missing] = contract.check({ method: 'GET', path: job.path, status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id: job.id }) });
    expect(missing).toMatch(/must have required property/);
  });

  it('reports an undocumented media type and a missing required header', () => {
    expect(contract.check({ method: 'GET', path: job.path, status: 404, headers: { 'content-type': 'text/html' }, body: '<p>no</p>' })).toEqual([
      expect.stringMatching(/media type text\/html is not documented/),
    ]);
    const created = contract.check({ method: 'POST', path: '/v1/jobs', status: 201, headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(created.some((e) => /required header Location is missing/.test(e))).toBe(true);
  });

  it('leaves alone what the API does not serve (the console, unknown paths)', () => {
    expect(contract.check({ method: 'GET', path: '/index.html', status: 200, headers: { 'content-type': 'text/html' }, body: '<!doctype html>' })).toEqual([]);
  });
});

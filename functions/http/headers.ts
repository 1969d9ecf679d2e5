/**
 * A request header of an API Gateway event (a route's or an authorizer's), by its lower-case name.
 * HTTP APIs lower-case header names; the local front and tests may not, so any case is matched.
 */
export function headerOf(event: { headers?: Record<string, string | undefined> }, name: string): string | undefined {
  const headers = event.headers ?? {};
  return headers[name] ?? Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
}

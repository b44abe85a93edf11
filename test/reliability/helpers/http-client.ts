// A tiny JSON client over real HTTP (fetch) for child-server tests.

export interface Answer {
  status: number;
  body: any;
}

/** Calls against baseUrl with a Bearer token; network failures (a killed server) reject. */
export function httpApi(baseUrl: string, token: string | null) {
  const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
    const res = await fetch(baseUrl + path, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON (calendar, pdf): keep the text
    }
    return { status: res.status, body: parsed };
  };
  return Object.assign(call, { baseUrl });
}

export type HttpApi = ReturnType<typeof httpApi>;

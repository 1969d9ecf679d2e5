// A hello-world function, the baseline for bundle init times.
export const handler = async () => ({ statusCode: 200, body: 'hello' });

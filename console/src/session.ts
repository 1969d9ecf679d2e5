/**
 * The signed-in key: kept in `sessionStorage` only (this tab, until it closes), never in a URL,
 * a cookie or `localStorage`. Every page makes its requests through the SDK's client built here.
 */
import { SxClient } from '../../sdk/client';

const KEY = 'sx.apiKey';

export const storedKey = (): string | null => sessionStorage.getItem(KEY);
export const storeKey = (apiKey: string) => sessionStorage.setItem(KEY, apiKey);
export const forgetKey = () => sessionStorage.removeItem(KEY);

/** A client on this page's own origin (the API and the console share it), with the key when given. */
export const clientFor = (apiKey?: string) => new SxClient({ baseUrl: location.origin, apiKey, maxRetries: 2 });

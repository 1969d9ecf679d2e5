/**
 * The SDK validates answers with zod, which compiles a fast parser for each object schema with
 * `new Function` when it is built. The console's CSP forbids that (no 'unsafe-eval'), so zod is told
 * to interpret instead. Imported first by main.tsx: schemas are built as their modules load.
 */
import * as z from 'zod';

z.config({ jitless: true });

import { fileURLToPath } from 'node:url';

/**
 * Real-world samples nobody on Parley wrote live beside the repository in `../shared/fixtures`
 * (CI clones the repository next to that folder); set PARLEY_FIXTURES to use another copy.
 */
export const SHARED_FIXTURES = process.env.PARLEY_FIXTURES ?? fileURLToPath(new URL('../../../../shared/fixtures', import.meta.url));

import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The nearest folder up from `dir` holding package.json: the project's root, whether code runs built (dist/) or from source. */
export function packageRoot(dir: string): string {
  return existsSync(join(dir, 'package.json')) || dirname(dir) === dir ? dir : packageRoot(dirname(dir));
}

import type { z } from 'zod';
import { Rejection } from './rejection.js';

/** `path.to.field: message; …` — every problem in one line. */
export function formatIssues(issues: readonly { path: PropertyKey[]; message: string }[], prefix: PropertyKey[] = []): string {
  return issues.map((i) => `${[...prefix, ...i.path].join('.') || '(root)'}: ${i.message}`).join('; ');
}

/** Parses with a schema, or refuses naming every bad field. */
export function parseOrReject<S extends z.ZodType>(schema: S, value: unknown, prefix: PropertyKey[] = []): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new Rejection('invalid-payload', formatIssues(result.error.issues, prefix));
  return result.data;
}

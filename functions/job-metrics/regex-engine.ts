import { compileDefinitions, type CompiledDefinition, type MetricDefinition } from '../../domain/metrics/definitions';

/**
 * Compiles a job's metric definitions, loading the RE2 engine (re2js) only when there is one to
 * compile: bundled as a chunk of its own, it costs a cold start nothing for the jobs that log JSON
 * lines, the default.
 * @throws InvalidMetricDefinitionError as {@link compileDefinitions} does.
 */
export async function compileJobDefinitions(definitions: readonly MetricDefinition[] = []): Promise<CompiledDefinition[]> {
  if (definitions.length === 0) return [];
  const { RE2JS } = await import('re2js');
  return compileDefinitions(definitions, RE2JS);
}

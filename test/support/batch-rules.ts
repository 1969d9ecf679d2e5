/**
 * The rules AWS Batch documents for multi-node parallel jobs, which it enforces at
 * `RegisterJobDefinition` and `SubmitJob` and which nothing local can show us (Batch API Reference,
 * NodeRangeProperty and NodeOverrides):
 * - `targetNodes` is `n`, `n:m`, `:m`, `n:` or `:`; an omitted start is 0, an omitted end the highest index;
 * - the ranges together cover every node 0 … numNodes − 1, and `mainNode` < `numNodes`;
 * - a `numNodes` override needs a range with an open upper bound whose lower bound is below the
 *   overriding count, and the main node below it too.
 * Each function returns what Batch would refuse, as readable lines (none: accepted).
 */

interface NodeRange {
  targetNodes?: string;
}
interface NodeProperties {
  numNodes?: number;
  mainNode?: number;
  nodeRangeProperties?: NodeRange[];
}

function parseRange(target: string, highest: number): { from: number; to: number; open: boolean } | null {
  const m = /^(\d*)(:(\d*))?$/.exec(target);
  if (!m || target === '') return null;
  const from = m[1] === '' ? 0 : Number(m[1]);
  if (m[2] === undefined) return { from, to: from, open: false };
  const open = m[3] === '';
  return { from, to: open ? highest : Number(m[3]), open };
}

/** What `RegisterJobDefinition` refuses in a multi-node definition's node properties. */
export function registerViolations(nodeProperties: NodeProperties | undefined): string[] {
  if (!nodeProperties) return ['nodeProperties is required for a multinode job definition'];
  const { numNodes, mainNode, nodeRangeProperties = [] } = nodeProperties;
  const problems: string[] = [];
  if (!numNodes || numNodes < 1) return ['numNodes must be at least 1'];
  if (mainNode === undefined || mainNode < 0 || mainNode >= numNodes) problems.push(`mainNode ${mainNode} must be below numNodes ${numNodes}`);
  const covered = new Set<number>();
  for (const range of nodeRangeProperties) {
    const parsed = parseRange(range.targetNodes ?? '', numNodes - 1);
    if (!parsed) {
      problems.push(`targetNodes ${JSON.stringify(range.targetNodes)} is not a node range`);
      continue;
    }
    if (parsed.from > parsed.to) problems.push(`targetNodes ${range.targetNodes} is an empty range`);
    for (let i = parsed.from; i <= Math.min(parsed.to, numNodes - 1); i++) covered.add(i);
  }
  for (let i = 0; i < numNodes; i++) if (!covered.has(i)) problems.push(`node ${i} is in no node range`);
  return problems;
}

/** What `SubmitJob` refuses in a `nodeOverrides` against the job definition's node properties. */
export function submitViolations(definition: NodeProperties | undefined, overrides: { numNodes?: number; nodePropertyOverrides?: NodeRange[] } | undefined): string[] {
  if (!overrides) return [];
  if (!definition) return ['nodeOverrides on a job definition that is not multinode'];
  const numNodes = overrides.numNodes ?? definition.numNodes ?? 0;
  const problems: string[] = [];
  if (overrides.numNodes !== undefined) {
    const openRanges = (definition.nodeRangeProperties ?? []).map((r) => parseRange(r.targetNodes ?? '', numNodes - 1)).filter((r) => r?.open);
    if (openRanges.length === 0) problems.push('a numNodes override needs a node range with an open upper bound (n:) in the job definition');
    else if (!openRanges.some((r) => r!.from < numNodes)) problems.push(`no open node range of the job definition starts below numNodes ${numNodes}`);
    if ((definition.mainNode ?? 0) >= numNodes) problems.push(`mainNode ${definition.mainNode} is not below numNodes ${numNodes}`);
  }
  for (const o of overrides.nodePropertyOverrides ?? []) {
    const parsed = parseRange(o.targetNodes ?? '', numNodes - 1);
    if (!parsed || parsed.from >= numNodes) problems.push(`override targetNodes ${JSON.stringify(o.targetNodes)} names no node of 0:${numNodes - 1}`);
  }
  return problems;
}

/**
 * Just enough PromQL reading to list the metric names and label names an expression uses — for checking
 * dashboards and alert rules against the telemetry contract. Not a parser: it relies on the expressions
 * being well-formed (promtool and a real engine check that).
 */
const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'bool', 'offset']);
const IDENT = /[a-zA-Z_:][a-zA-Z0-9_:]*/y;
const STRING = /"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g;
const GROUPING = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;
const MATCHERS = /\{([^}]*)\}/g;

/** Metric names selected by a PromQL expression. */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(STRING, '""')
    .replace(MATCHERS, '')
    .replace(GROUPING, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\boffset\s+-?[0-9a-z]+/g, '');
  const names = new Set<string>();
  for (let i = 0; i < stripped.length; ) {
    const prev = i > 0 ? stripped.charAt(i - 1) : ' ';
    IDENT.lastIndex = i;
    const m = /[a-zA-Z0-9_.]/.test(prev) ? null : IDENT.exec(stripped);
    if (!m) {
      i++;
      continue;
    }
    i += m[0].length;
    const next = stripped.slice(i).trimStart().charAt(0);
    if (next === '(' || KEYWORDS.has(m[0]) || /^(?:inf|nan)$/i.test(m[0])) continue;
    names.add(m[0]);
  }
  return [...names].sort();
}

/** Label names used in matchers and in by/without/on/ignoring/group_x clauses. */
export function labelNamesIn(expr: string): string[] {
  const noStrings = expr.replace(STRING, '""');
  const names = new Set<string>();
  for (const [, body = ''] of noStrings.matchAll(MATCHERS)) {
    for (const [, name = ''] of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) names.add(name);
  }
  for (const [, list = ''] of noStrings.matchAll(GROUPING)) {
    for (const name of list.split(',').map((s) => s.trim()).filter(Boolean)) names.add(name);
  }
  return [...names].sort();
}

/** Range selectors (`[5m]`, `[$__rate_interval]`) in an expression. */
export function rangeSelectorsIn(expr: string): string[] {
  return [...expr.replace(STRING, '""').matchAll(/\[([^\]]*)\]/g)].map((m) => m[1] ?? '');
}

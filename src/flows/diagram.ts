import type { AnyStateMachine, AnyStateNode } from 'xstate';

/** A Mermaid state diagram read off a machine's own definition: what the docs show is what runs. */
export function stateDiagram(machine: AnyStateMachine): string {
  const root = machine.root;
  const lines = ['stateDiagram-v2', `  [*] --> ${root.initial.target.map((n: AnyStateNode) => n.key).join(', ')}`];
  for (const [event, transitions] of root.transitions) {
    if (event === '*') continue; // ignoring what no state takes is not a transition
    for (const t of transitions) for (const target of t.target ?? []) lines.push(`  state "any state" as any`, `  any --> ${target.key} : ${label(event, t)}`);
  }
  for (const node of Object.values(root.states) as AnyStateNode[]) {
    const entry = node.entry.map(name).filter(Boolean);
    if (entry.length) lines.push(`  ${node.key} : entry / ${entry.join(', ')}`);
    for (const [event, transitions] of node.transitions) {
      for (const t of transitions) lines.push(`  ${node.key} --> ${(t.target ?? [node]).map((n: AnyStateNode) => n.key).join(', ')} : ${label(event, t)}`);
    }
    if (node.type === 'final') lines.push(`  ${node.key} --> [*]`);
  }
  return lines.join('\n');
}

function label(event: string, t: { guard?: unknown; actions: readonly unknown[] }): string {
  const guard = t.guard === undefined ? '' : ` [${typeof t.guard === 'string' ? t.guard : ((t.guard as { type?: string }).type ?? 'guard')}]`;
  const actions = t.actions.map(name).filter(Boolean);
  return `${readable(event)}${guard}${actions.length ? ` / ${actions.join(', ')}` : ''}`;
}

/** XState's own event names, as a reader says them. */
function readable(event: string): string {
  const [, kind, rest] = event.match(/^xstate\.(done\.actor|error\.actor|after)\.(.*)$/) ?? [];
  if (!kind) return event;
  const last = rest.split('.').at(-1);
  return kind === 'after' ? `after ${rest.split('.')[0]}` : `${kind === 'done.actor' ? 'done' : 'error'}: ${last}`;
}

/** Named actions by name; XState's own inline ones by what they do (`xstate.raise` is a delay's internal event). */
function name(action: unknown): string {
  if (typeof action === 'string') return action;
  const type = (action as { type?: string })?.type ?? 'effect';
  return type === 'xstate.raise' ? '' : type.replace(/^xstate\./, '');
}

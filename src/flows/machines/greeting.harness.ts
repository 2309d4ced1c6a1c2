import { createActor, fromPromise, SimulatedClock } from 'xstate';
import { greetingMachine, type GreetInput, type GreetOutcome } from './greeting.machine.js';

/** The greeting machine under test: its three side effects recorded and settled by the test, on a SimulatedClock. */
export const input = { branchId: 'b1', zone: 'entrance', cooldownMs: 5000 };
export const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A `fromPromise` side effect whose calls the test records and settles. */
export function controlled<T>() {
  const calls: Array<{ input: GreetInput; resolve: (v: T) => void; reject: (e: unknown) => void; settled: boolean }> = [];
  const logic = fromPromise<T, GreetInput>(
    ({ input }) =>
      new Promise<T>((resolve, reject) => {
        const call = { input, settled: false, resolve: (v: T) => ((call.settled = true), resolve(v)), reject: (e: unknown) => ((call.settled = true), reject(e)) };
        calls.push(call);
      }),
  );
  /** The one running call (an invoked actor of the current state); fails if there is not exactly one. */
  const pending = () => {
    const open = calls.filter((c) => !c.settled);
    expect(open).toHaveLength(1);
    return open[0];
  };
  return { logic, calls, inputs: () => calls.map((c) => c.input), pending };
}

export function startSut(cooldownMs = input.cooldownMs) {
  const greet = controlled<GreetOutcome>();
  const showWelcome = controlled<void>();
  const alertVip = controlled<void>();
  const clock = new SimulatedClock();
  const machine = greetingMachine.provide({ actors: { greet: greet.logic, showWelcome: showWelcome.logic, alertVip: alertVip.logic } });
  const actor = createActor(machine, { input: { ...input, cooldownMs }, clock });
  const errors: unknown[] = [];
  actor.subscribe({ error: (e) => errors.push(e) }); // as the host does; unobserved, an error would crash jest
  actor.start();
  return { actor, clock, errors, greet, showWelcome, alertVip, value: () => actor.getSnapshot().value };
}


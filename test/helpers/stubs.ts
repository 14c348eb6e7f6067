/** A method of a Durable Object stub, replaced: it gets the real stub and the call's arguments. */
type Override = (stub: any, ...args: any[]) => unknown;

/**
 * The real Durable Object namespace, whose stubs run `overrides` in place of those methods (to
 * hold a call open or make it fail); every other call goes to the real object.
 */
export function wrapStubs<N extends DurableObjectNamespace<any>>(namespace: N, overrides: Record<string, Override>): N {
  const real = namespace as unknown as { get(...args: unknown[]): object };
  return new Proxy(namespace, {
    get(target, property) {
      const value = Reflect.get(target, property, target);
      if (property !== "get") return typeof value === "function" ? value.bind(target) : value;
      return (...args: unknown[]) =>
        new Proxy(real.get(...args), {
          get: (stub, name) => (typeof name === "string" && overrides[name] ? (...callArgs: unknown[]) => overrides[name]!(stub, ...callArgs) : Reflect.get(stub, name)),
        });
    },
  });
}

package io.workstream.bus;

/**
 * One event-bus address, declared once in {@link Endpoints}: its name, its {@link Scope}, the type of its body and
 * of its reply, and how long a request to it may take by default. {@link Bus} is the only code that turns an
 * endpoint into an address and delivery options.
 *
 * @param <T> the body sent to it
 * @param <R> the reply ({@link Void} for endpoints that are sent or published to without a reply)
 */
public record Endpoint<T, R>(String name, Scope scope, Class<T> bodyType, Class<R> replyType, long timeoutMs) {

  public static <T, R> Endpoint<T, R> cluster(String name, Class<T> body, Class<R> reply, long timeoutMs) {
    return new Endpoint<>(name, Scope.CLUSTER, body, reply, timeoutMs);
  }

  public static <T, R> Endpoint<T, R> node(String name, Class<T> body, Class<R> reply, long timeoutMs) {
    return new Endpoint<>(name, Scope.NODE, body, reply, timeoutMs);
  }

  /** The same kind of endpoint for one instance of many (a gateway instance's own inbox, say). */
  public Endpoint<T, R> instance(String key) {
    return new Endpoint<>(name + "." + key, scope, bodyType, replyType, timeoutMs);
  }

  /** The address on the bus: node-scoped names carry the node they belong to. */
  String address(String nodeId) {
    return scope == Scope.NODE ? name + "@" + nodeId : name;
  }
}

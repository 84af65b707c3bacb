package io.workstream.gateway;

/**
 * The bytes one connection may hold in memory ({@code connectionBudgetBytes}): frames waiting in its outbound queue,
 * live events its subscriptions hold while they catch up, and the page of history in hand. The page has a share of
 * its own ({@code replayPageBytes}, at most one page per connection at a time: {@link ReadPacer}); queued frames and
 * held events share the rest, and whatever does not fit is refused, not held — the queue drops its change events and
 * sends Lagged, a subscription catching up stops with Lagged. Confined to the connection's event loop.
 */
final class ConnectionBudget {

  private final long sharedBytes;
  private final GatewayMetrics metrics;
  private long shared;
  private long history;

  ConnectionBudget(GatewayConfig config, GatewayMetrics metrics) {
    this.sharedBytes = config.connectionBudgetBytes() - config.replayPageBytes();
    this.metrics = metrics;
  }

  /** Takes {@code bytes} for a queued frame or a held event: false (nothing taken) when they do not fit. */
  boolean tryTake(long bytes) {
    if (shared + bytes > sharedBytes) {
      return false;
    }
    shared += bytes;
    metrics.held(bytes);
    return true;
  }

  /** Gives back what {@link #tryTake} took. */
  void give(long bytes) {
    shared -= bytes;
    metrics.held(-bytes);
  }

  /** History events coming into (positive) or leaving (negative) the connection's page in hand. */
  void history(long bytes) {
    history += bytes;
    metrics.held(bytes);
  }

  /** What the connection holds now. */
  long held() {
    return shared + history;
  }
}

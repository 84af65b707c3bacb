package io.workstream.db;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.workstream.bus.Confined;
import io.workstream.bus.WorkstreamException;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * Admits database operations to the pool's connections, fairly between tenants, and sheds what cannot start soon.
 * At most one operation per connection runs; the rest wait in one queue per tenant, and a freed connection goes to
 * the next tenant in turn (round robin), so a tenant with a thousand queued writes delays another tenant's write
 * by one operation, not by a thousand. While other tenants have work, a tenant holds at most
 * {@code maxInFlightPerTenant} connections, which keeps some free for them; a tenant alone on the database may use
 * more, all but that many (one busy team should not be held to a quarter of an idle pool), and goes back to its
 * share as its operations end once another tenant comes.
 *
 * <p>Shedding happens here, before the circuit breaker, and is never counted by it: an operation is refused at
 * once with SERVICE_UNAVAILABLE when its tenant's queue is full, the node's queue is full, or the wait it would
 * have exceeds {@code maxQueueWaitMs}; one that still waited longer than that (the estimate was wrong) is refused
 * when its turn comes instead of being started late. {@code retry_after_ms} is the time the tenant's queue takes to
 * drain at the measured pace, so a client that waits for it finds room. Confined to the DB verticle's event loop.
 */
final class DbScheduler {

  /** Weight of the newest interval between completions in the running average. */
  private static final double SMOOTHING = 0.1;
  private static final long MIN_RETRY_AFTER_MS = 10;

  /**
   * @param maxInFlight          operations running at once: the pool's size
   * @param maxInFlightPerTenant of those, at most this many for one tenant while others have work
   * @param maxQueued            operations waiting, all tenants together
   * @param maxQueuedPerTenant   operations waiting, per tenant
   * @param maxQueueWaitMs       the longest an operation may wait for a connection
   */
  record Limits(int maxInFlight, int maxInFlightPerTenant, int maxQueued, int maxQueuedPerTenant,
                long maxQueueWaitMs) {
  }

  private final Limits limits;
  private final Map<String, Tenant> tenants = new HashMap<>();
  /** Tenants with queued work and a connection to spare, in turn order. */
  private final ArrayDeque<Tenant> turns = new ArrayDeque<>();
  private final Counter shedAtOnce;
  private final Counter shedAfterWaiting;
  private int inFlight;
  private int queued;
  /** Tenants with at least one operation waiting: they share the connections that free up. */
  private int waitingTenants;
  /** The time between two completions while operations were waiting: the pace at which the queue drains. */
  private double averageIntervalMs = 5;
  private long lastCompletionAt = System.nanoTime();
  private boolean backlogAtLastCompletion;
  /** Made on the DB verticle's event loop, its only thread. */
  private final Confined eventLoop = new Confined("DbScheduler");

  DbScheduler(Limits limits, MeterRegistry registry) {
    this.limits = limits;
    this.shedAtOnce = shedCounter(registry, "full");
    this.shedAfterWaiting = shedCounter(registry, "waited");
  }

  /** Runs {@code operation} for {@code tenantId} when a connection is free and it is that tenant's turn. */
  <T> Future<T> submit(String tenantId, Supplier<Future<T>> operation) {
    assert eventLoop.here();
    Tenant tenant = tenants.computeIfAbsent(tenantId, Tenant::new);
    if (tenant.waiting.isEmpty() && tenant.inFlight < cap(tenant) && inFlight < limits.maxInFlight()) {
      return start(tenant, operation);
    }
    long expectedWaitMs = expectedWaitMs(tenant.waiting.size() + 1);
    if (queued >= limits.maxQueued() || tenant.waiting.size() >= limits.maxQueuedPerTenant()
      || expectedWaitMs > limits.maxQueueWaitMs()) {
      shedAtOnce.increment();
      forgetIfIdle(tenant);
      return Future.failedFuture(overloaded(tenant));
    }
    Promise<T> promise = Promise.promise();
    if (tenant.waiting.isEmpty()) {
      waitingTenants++;
    }
    tenant.waiting.add(new Waiting<>(operation, promise, System.nanoTime()));
    queued++;
    if (!tenant.hasTurn && tenant.inFlight < cap(tenant)) {
      giveTurn(tenant);
    }
    return promise.future();
  }

  int inFlight() {
    return inFlight;
  }

  int queued() {
    return queued;
  }

  private <T> Future<T> start(Tenant tenant, Supplier<Future<T>> operation) {
    inFlight++;
    tenant.inFlight++;
    Future<T> result;
    try {
      result = operation.get();
    } catch (RuntimeException e) {
      result = Future.failedFuture(e);
    }
    return result.andThen(done -> finished(tenant));
  }

  private void finished(Tenant tenant) {
    assert eventLoop.here();
    long now = System.nanoTime();
    if (backlogAtLastCompletion) {
      averageIntervalMs += SMOOTHING * ((now - lastCompletionAt) / 1e6 - averageIntervalMs);
    }
    lastCompletionAt = now;
    backlogAtLastCompletion = queued > 0;
    inFlight--;
    tenant.inFlight--;
    shedHopeless(tenant);
    if (!tenant.waiting.isEmpty() && !tenant.hasTurn && tenant.inFlight < cap(tenant)) {
      giveTurn(tenant);
    }
    forgetIfIdle(tenant);
    startNext();
  }

  private void startNext() {
    while (inFlight < limits.maxInFlight() && !turns.isEmpty()) {
      Tenant tenant = turns.poll();
      tenant.hasTurn = false;
      shedHopeless(tenant);
      if (tenant.waiting.isEmpty() || tenant.inFlight >= cap(tenant)) {
        // Nothing left, or it took more while alone and others came since: its next turn comes as its work ends.
        forgetIfIdle(tenant);
        continue;
      }
      Waiting<?> next = taken(tenant, tenant.waiting.poll());
      if ((System.nanoTime() - next.queuedAt) / 1_000_000 > limits.maxQueueWaitMs()) {
        shedAfterWaiting.increment();
        next.promise.fail(overloaded(tenant));
      } else {
        next.startIn(this, tenant);
      }
      if (!tenant.waiting.isEmpty() && !tenant.hasTurn && tenant.inFlight < cap(tenant)) {
        giveTurn(tenant);
      }
      forgetIfIdle(tenant);
    }
  }

  /**
   * The connections a tenant may hold: its share while any other tenant has work here, otherwise all but a share
   * (the one a newcomer starts on at once).
   */
  private int cap(Tenant tenant) {
    int share = limits.maxInFlightPerTenant();
    boolean alone = tenants.size() == 1;
    return alone ? Math.max(share, limits.maxInFlight() - share) : share;
  }

  /**
   * When the pace turns out slower than estimated, the newest waiting operations of a tenant can no longer start in
   * time: refuse them now, not after they waited {@code maxQueueWaitMs} for nothing.
   */
  private void shedHopeless(Tenant tenant) {
    long now = System.nanoTime();
    Waiting<?> newest;
    while ((newest = tenant.waiting.peekLast()) != null
      && (now - newest.queuedAt) / 1_000_000 + expectedWaitMs(tenant.waiting.size()) > limits.maxQueueWaitMs()) {
      taken(tenant, tenant.waiting.pollLast());
      shedAfterWaiting.increment();
      newest.promise.fail(overloaded(tenant));
    }
  }

  /** Counts out an operation just taken from the tenant's queue (to start or to shed). */
  private Waiting<?> taken(Tenant tenant, Waiting<?> operation) {
    queued--;
    if (tenant.waiting.isEmpty()) {
      waitingTenants--;
    }
    return operation;
  }

  private void giveTurn(Tenant tenant) {
    tenant.hasTurn = true;
    turns.add(tenant);
  }

  private void forgetIfIdle(Tenant tenant) {
    if (tenant.inFlight == 0 && tenant.waiting.isEmpty()) {
      tenants.remove(tenant.id);
    }
  }

  /**
   * How long the {@code position}-th waiting operation of a tenant waits: the queue drains at the measured pace,
   * shared in turn with the other tenants that are waiting.
   */
  private long expectedWaitMs(int position) {
    int sharing = Math.max(1, waitingTenants);
    return (long) Math.ceil(position * averageIntervalMs * sharing);
  }

  private WorkstreamException overloaded(Tenant tenant) {
    // The queue never keeps more than maxQueueWaitMs of work (what the estimate let in beyond that is shed when its
    // turn comes), so that is the most it takes to drain.
    long drainMs = Math.max(MIN_RETRY_AFTER_MS,
      Math.min(limits.maxQueueWaitMs(), expectedWaitMs(tenant.waiting.size())));
    // Spread the resends of a burst over the drain time, instead of bringing them all back at once.
    long retryAfterMs = drainMs + ThreadLocalRandom.current().nextLong(drainMs + 1);
    return WorkstreamException.unavailable("the database is busy; resend after retry_after_ms", retryAfterMs);
  }

  private static Counter shedCounter(MeterRegistry registry, String reason) {
    return Counter.builder("workstream.db.shed")
      .description("Database operations refused as overload before they started (never counted by the breaker)")
      .tag("reason", reason)
      .register(registry);
  }

  private static final class Tenant {
    final String id;
    final ArrayDeque<Waiting<?>> waiting = new ArrayDeque<>();
    int inFlight;
    boolean hasTurn;

    Tenant(String id) {
      this.id = id;
    }
  }

  private record Waiting<T>(Supplier<Future<T>> operation, Promise<T> promise, long queuedAt) {
    void startIn(DbScheduler scheduler, Tenant tenant) {
      scheduler.start(tenant, operation).onComplete(promise);
    }
  }
}

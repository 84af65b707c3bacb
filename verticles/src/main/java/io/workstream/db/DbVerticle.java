package io.workstream.db;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.circuitbreaker.CircuitBreakerState;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.workstream.Observability;
import io.workstream.bus.Bus;
import io.workstream.bus.Endpoint;
import io.workstream.bus.Endpoints;
import io.workstream.bus.NodeState;
import io.workstream.bus.proto.Mutation;
import io.workstream.bus.RequestContext;
import io.workstream.bus.ReservedTenants;
import io.workstream.bus.proto.TenantChange;
import io.workstream.protocol.v1.WorkItemAck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * DB access: owns the PostgreSQL pool and is the only code that talks to the database. Every operation waits for
 * its turn in the {@link DbScheduler} (fair between tenants; overload shed there, before the breaker), then runs
 * through the {@link DatabaseGuard} (circuit breaker, retries). Health queries have a connection of their own, so a
 * full pool reads as busy, not as down.
 *
 * <p>Consumes {@code workstream.db.mutate}, {@code workstream.db.list-items} and {@code workstream.db.status} (node),
 * {@code workstream.history}, {@code workstream.current-seqs} and {@code workstream.warmup.purge} (cluster: one
 * consumer per core node). Publishes {@code workstream.changes} ({@code TenantChange}) once after every committed
 * change.
 */
public final class DbVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DbVerticle.class);
  /** Shorter than the gateway's probe timeout, so a hung database reads as DOWN rather than as no answer. */
  private static final long HEALTH_QUERY_TIMEOUT_MS = 700;

  /** Housekeeping takes its turns as a tenant of its own. */
  private static final String SYSTEM_TENANT = "";
  private static final long STALE_WARMUP_MS = 3_600_000;

  private Bus bus;
  private DbConfig settings;
  private Pool pool;
  private Pool healthPool;
  private DbScheduler scheduler;
  private DatabaseGuard guard;
  private WorkItemStore store;
  private List<Meter> meters = List.of();

  @Override
  public Future<?> start() {
    bus = Bus.of(vertx);
    settings = DbConfig.from(config());
    return target()
      .compose(target -> vertx.executeBlocking(() -> {
        Migrations.migrate(target);
        return target;
      }))
      .compose(target -> {
        PgConnectOptions connect = target
          .addProperty("application_name", "workstream")
          .addProperty("statement_timeout", Long.toString(settings.statementTimeoutMs()))
          // A node frozen mid-transaction (a hung host, a partition) must not hold a project's seq lock for the
          // others: the server ends such a session and its locks go with it.
          .addProperty("idle_in_transaction_session_timeout", Long.toString(settings.idleInTransactionTimeoutMs()))
          // Each statement is parsed and planned once per connection, not at every call (a round trip and the
          // server's parse and plan saved per mutation).
          .setCachePreparedStatements(true);
        pool = PgBuilder.pool()
          .with(new PoolOptions()
            .setMaxSize(settings.poolSize())
            // The scheduler keeps at most one operation per connection; this queue only holds the stragglers of
            // operations the breaker gave up on.
            .setMaxWaitQueueSize(settings.admission().maxQueued())
            .setConnectionTimeout((int) settings.breaker().timeoutMs())
            .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS)
            .setName("workstream-db"))
          .connectingTo(connect)
          .using(vertx)
          .build();
        healthPool = PgBuilder.pool()
          .with(new PoolOptions().setMaxSize(1).setMaxWaitQueueSize(4).setName("workstream-db-health"))
          .connectingTo(connect)
          .using(vertx)
          .build();
        DbConfig.Admission admission = settings.admission();
        scheduler = new DbScheduler(new DbScheduler.Limits(settings.poolSize(), admission.maxInFlightPerTenant(),
          admission.maxQueued(), admission.maxQueuedPerTenant(), admission.maxQueueWaitMs()),
          Observability.registry(config()));
        guard = new DatabaseGuard(vertx, Observability.registry(config()), settings.breaker(), settings.retry());
        store = new WorkItemStore(pool, settings.retention(), settings.listPageBytes(), settings.maxHierarchyDepth(),
          settings.groupCommit());
        meters = groupCommitMeters(Observability.registry(config()), store.createGroups());
        vertx.setPeriodic(settings.retention().pruneIntervalMs(), id -> prune());
        return Future.join(List.of(
          guarded(Endpoints.DB_MUTATE, this::mutate),
          guarded(Endpoints.DB_LIST_ITEMS, (ctx, request) -> store.list(ctx.tenantId(), request)),
          guarded(Endpoints.READ_HISTORY, (ctx, request) -> store.history(ctx.tenantId(), request)),
          guarded(Endpoints.READ_HISTORIES, (ctx, request) -> store.histories(ctx.tenantId(), request)),
          guarded(Endpoints.READ_CURRENT_SEQS, (ctx, request) -> store.currentSeqs(ctx.tenantId(), request)),
          bus.serve(Endpoints.PURGE_WARMUP, (ctx, tenantId) -> purgeWarmup(tenantId)).completion(),
          bus.serve(Endpoints.DB_STATUS, (ctx, probe) -> status()).completion()));
      });
  }

  @Override
  public Future<?> stop() {
    return NodeState.of(vertx).gatewaysStopped(vertx, NodeState.drainWaitMs(config()))
      .compose(v -> closePool());
  }

  private Future<?> closePool() {
    if (guard != null) {
      guard.close();
    }
    // The registry outlives this verticle instance: its meters must not read a closed store.
    meters.forEach(Observability.registry(config())::remove);
    Future<Void> closed = Future.join(close(pool), close(healthPool)).mapEmpty();
    return closed.eventually(() -> settings.embedded()
      ? vertx.executeBlocking(() -> {
      EmbeddedDatabase.release();
      return null;
    })
      : Future.succeededFuture());
  }

  private static List<Meter> groupCommitMeters(MeterRegistry registry, GroupCommit groups) {
    return List.of(
      FunctionCounter.builder("workstream.db.group.commits", groups, GroupCommit::groups)
        .description("Groups of two creates or more committed as one transaction").register(registry),
      FunctionCounter.builder("workstream.db.group.commit.calls", groups, GroupCommit::groupedCalls)
        .description("Creates in those groups").register(registry),
      FunctionCounter.builder("workstream.db.group.commit.reruns", groups, GroupCommit::rerunGroups)
        .description("Groups rolled back for one of their creates, whose creates then ran alone").register(registry));
  }

  private static Future<Void> close(Pool pool) {
    return pool == null ? Future.succeededFuture() : pool.close();
  }

  private Future<PgConnectOptions> target() {
    if (!settings.embedded()) {
      return Future.succeededFuture(new PgConnectOptions(settings.connect()));
    }
    return vertx.executeBlocking(() -> EmbeddedDatabase.acquire(Path.of(settings.embeddedDataDir()),
      settings.embeddedPort()));
  }

  /**
   * Serves one operation in its tenant's turn and under the guard (breaker, retries); its failures cross the bus as
   * protocol codes.
   */
  private <T, R> Future<Void> guarded(Endpoint<T, R> endpoint, BiFunction<RequestContext, T, Future<R>> operation) {
    return bus.serve(endpoint, (ctx, body) ->
      scheduler.submit(ctx.tenantId(), () -> guard.run(() -> operation.apply(ctx, body)))).completion();
  }

  /** Applies the mutation in one transaction; after the commit, publishes its change once for every edge node. */
  private Future<WorkItemAck> mutate(RequestContext ctx, Mutation mutation) {
    Future<WorkItemStore.Committed> committed = store.apply(ctx, mutation);
    return committed.map(done -> {
      if (done.event() != null && !settings.faults().losePublishes()) {
        bus.publish(Endpoints.CHANGES, TenantChange.newBuilder().setTenantId(done.tenantId()).setEvent(done.event())
          .build());
      }
      return done.ack();
    });
  }

  /** A real query, outside the breaker so it sees the database come back, and the breaker's state. */
  private Future<JsonObject> status() {
    JsonObject status = new JsonObject().put("breaker", guard.state().name())
      .put("inFlight", scheduler.inFlight()).put("queued", scheduler.queued());
    return healthPool.query("SELECT 1").execute().timeout(HEALTH_QUERY_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .map(v -> status.put("database", "UP"))
      // The error text names hosts and ports: it goes to the log, not to whoever reads /health.
      .recover(err -> {
        LOG.warn("database health query failed", kv("error", String.valueOf(err.getMessage())));
        return Future.succeededFuture(status.put("database", "DOWN"));
      });
  }

  /**
   * A warm-up's tenant, with those a dead node's warm-up left behind (any that started an hour ago or more: a warm-up
   * lasts minutes at most). Housekeeping, so in the system's turn; a failure is the caller's to log.
   */
  private Future<Long> purgeWarmup(String tenantId) {
    if (!ReservedTenants.isWarmup(tenantId)) {
      return Future.failedFuture(new IllegalArgumentException("not a warm-up tenant: " + tenantId));
    }
    long staleBefore = System.currentTimeMillis() - STALE_WARMUP_MS;
    return scheduler.submit(SYSTEM_TENANT, () -> store.purgeWarmups(tenantId, staleBefore));
  }

  /**
   * Housekeeping takes its turn like a tenant, but outside the breaker: a long run of batches is not a timeout of
   * the database, and a failed run is tried again at the next interval.
   */
  private void prune() {
    if (guard.state() != CircuitBreakerState.CLOSED) {
      return;
    }
    scheduler.submit(SYSTEM_TENANT, () -> store.pruneExpired(System.currentTimeMillis()))
      .onFailure(err -> LOG.warn("pruning history failed", kv("error", err.toString())));
  }
}

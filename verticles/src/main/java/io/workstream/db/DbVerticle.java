package io.workstream.db;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.EventBus;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.workstream.Observability;
import io.workstream.bus.Addresses;
import io.workstream.bus.Codecs;
import io.workstream.bus.Failures;
import io.workstream.bus.Headers;
import io.workstream.bus.NodeState;
import io.workstream.bus.RequestContext;
import io.workstream.bus.proto.CreateItem;
import io.workstream.bus.proto.DeleteItem;
import io.workstream.bus.proto.LoadItem;
import io.workstream.bus.proto.ReadHistory;
import io.workstream.bus.proto.TenantChange;
import io.workstream.bus.proto.UpdateItem;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.WorkItemAck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * DB access: owns the PostgreSQL pool and is the only code that talks to the database. Every operation goes
 * through the {@link DatabaseGuard} (circuit breaker, retries).
 *
 * <p>Consumes: {@code workstream.db.*} (request/reply, bodies from {@code bus.proto}), {@code workstream.health.db}.
 * Publishes: {@code workstream.changes} ({@code TenantChange}) once after every committed change.
 */
public final class DbVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(DbVerticle.class);
  /** Shorter than the gateway's probe timeout, so a hung database reads as DOWN rather than as no answer. */
  private static final long HEALTH_QUERY_TIMEOUT_MS = 700;

  private DbConfig settings;
  private Pool pool;
  private DatabaseGuard guard;
  private WorkItemStore store;

  @Override
  public Future<?> start() {
    Codecs.register(vertx);
    settings = DbConfig.from(config());
    return target()
      .compose(target -> vertx.executeBlocking(() -> {
        Migrations.migrate(target);
        return target;
      }))
      .compose(target -> {
        pool = PgBuilder.pool()
          .with(new PoolOptions()
            .setMaxSize(settings.poolSize())
            .setMaxWaitQueueSize(settings.poolQueueSize())
            .setConnectionTimeout((int) settings.breaker().timeoutMs())
            .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS)
            .setName("workstream-db"))
          .connectingTo(target
            .addProperty("application_name", "workstream")
            .addProperty("statement_timeout", Long.toString(settings.statementTimeoutMs())))
          .using(vertx)
          .build();
        guard = new DatabaseGuard(vertx, Observability.registry(config()), settings.breaker(), settings.retry());
        store = new WorkItemStore(pool, settings.retention());
        vertx.setPeriodic(settings.retention().pruneIntervalMs(), id -> prune());
        return Future.join(List.of(
          serve(Addresses.DB_LOAD_ITEM, (RequestContext ctx, LoadItem body) -> store.load(ctx, body.getWorkItemId())),
          serve(Addresses.DB_CREATE_ITEM, (RequestContext ctx, CreateItem body) -> publishing(store.create(ctx, body.getItem()))),
          serve(Addresses.DB_UPDATE_ITEM, (RequestContext ctx, UpdateItem body) -> publishing(store.update(ctx, body))),
          serve(Addresses.DB_DELETE_ITEM, (RequestContext ctx, DeleteItem body) -> publishing(store.delete(ctx, body))),
          serve(Addresses.DB_LIST_ITEMS, (RequestContext ctx, GetWorkItems body) -> store.list(ctx.tenantId(), body)),
          serve(Addresses.DB_READ_HISTORY, (RequestContext ctx, ReadHistory body) -> store.history(ctx.tenantId(), body)),
          vertx.eventBus().<Object>consumer(Addresses.DB_HEALTH, this::health).completion(),
          vertx.eventBus().consumer(Addresses.DB_BREAKER_STATE,
            msg -> msg.reply(new JsonObject().put("breaker", guard.state().name()))).completion(),
          vertx.eventBus().consumer(Addresses.health("db"), msg -> msg.reply("ok")).completion()));
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
    Future<Void> closed = pool == null ? Future.succeededFuture() : pool.close();
    return closed.eventually(() -> settings.embedded()
      ? vertx.executeBlocking(() -> {
      EmbeddedDatabase.release();
      return null;
    })
      : Future.succeededFuture());
  }

  private Future<PgConnectOptions> target() {
    if (!settings.embedded()) {
      return Future.succeededFuture(new PgConnectOptions(settings.connect()));
    }
    return vertx.executeBlocking(() -> EmbeddedDatabase.acquire(Path.of(settings.embeddedDataDir()),
      settings.embeddedPort()));
  }

  /** Registers one operation: runs it under the guard and replies with its result or its failure code. */
  private <T, R> Future<Void> serve(String address, BiFunction<RequestContext, T, Future<R>> operation) {
    return vertx.eventBus().<T>consumer(address, msg -> {
      RequestContext ctx = RequestContext.from(msg.headers());
      guard.run(ctx.correlationId(), () -> operation.apply(ctx, msg.body()))
        .onSuccess(result -> msg.reply(result, ctx.replyOptions()))
        .onFailure(failure -> Failures.reply(msg, failure));
    }).completion();
  }

  /** After commit, publishes the change once for every node's broadcast; replies with the ack. */
  private Future<WorkItemAck> publishing(Future<WorkItemStore.Committed> mutation) {
    return mutation.map(committed -> {
      if (committed.event() != null) {
        EventBus eb = vertx.eventBus();
        String tenantId = committed.tenantId();
        eb.publish(Addresses.CHANGES,
          TenantChange.newBuilder().setTenantId(tenantId).setEvent(committed.event()).build(),
          new DeliveryOptions().addHeader(Headers.CORRELATION_ID, committed.event().getCorrelationId()));
      }
      return committed.ack();
    });
  }

  /** A real query, outside the breaker so it sees the database come back. */
  private void health(Message<Object> msg) {
    store.ping().timeout(HEALTH_QUERY_TIMEOUT_MS, TimeUnit.MILLISECONDS)
      .onSuccess(v -> msg.reply(new JsonObject().put("database", "UP")))
      .onFailure(err -> msg.reply(new JsonObject().put("database", "DOWN").put("error", String.valueOf(err.getMessage()))));
  }

  private void prune() {
    store.pruneExpired(System.currentTimeMillis())
      .onFailure(err -> LOG.warn("pruning history failed", kv("error", err.toString())));
  }
}

package io.workstream.broadcast;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.workstream.bus.Addresses;
import io.workstream.bus.Codecs;
import io.workstream.bus.Failures;
import io.workstream.bus.Frames;
import io.workstream.bus.FollowProject;
import io.workstream.bus.FollowResult;
import io.workstream.bus.Headers;
import io.workstream.bus.NodeState;
import io.workstream.bus.ProjectFrame;
import io.workstream.bus.UnfollowProject;
import io.workstream.bus.proto.History;
import io.workstream.bus.proto.ReadHistory;
import io.workstream.bus.proto.TenantChange;
import io.workstream.config.Json;
import io.workstream.protocol.v1.ChangeEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Per-tenant broadcast, one per node: receives every committed change once per node and hands it to exactly the
 * gateway instances of this node that have subscribers of that (tenant, project) — one node-local message per
 * gateway instance, carrying the frame encoded once, never one message per subscriber. Keeps each project's events
 * in {@code seq} order and fills gaps from the history, so it works the same whichever node made the change.
 * (Replaying history to one subscriber is the gateway's job: it is paced by that subscriber's socket.)
 *
 * <p>Consumes {@code workstream.changes} (published, cluster-wide), {@code workstream.broadcast.subscribe} and
 * {@code workstream.broadcast.unsubscribe} (node-local). Sends {@link ProjectFrame}s to
 * {@code workstream.gateway.<id>.events} and reads history from {@code workstream.db.read-history}.
 */
public final class TenantBroadcastVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(TenantBroadcastVerticle.class);
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private record ProjectKey(String tenantId, String projectId) {
  }

  private final Map<ProjectKey, ProjectStream> streams = new HashMap<>();
  private final Map<ProjectKey, Future<Void>> starting = new HashMap<>();
  private long gapFillDelayMs;
  private long dbTimeoutMs;

  @Override
  public Future<?> start() {
    Codecs.register(vertx);
    gapFillDelayMs = Json.section(config(), "broadcast").getLong("gapFillDelayMs", 100L);
    dbTimeoutMs = Json.section(config(), "broadcast").getLong("dbTimeoutMs", 6_000L);
    return Future.join(
      vertx.eventBus().<TenantChange>consumer(Addresses.CHANGES, this::onChange).completion(),
      vertx.eventBus().<FollowProject>localConsumer(Addresses.BROADCAST_SUBSCRIBE, this::follow).completion(),
      vertx.eventBus().<UnfollowProject>localConsumer(Addresses.BROADCAST_UNSUBSCRIBE, this::unfollow).completion(),
      vertx.eventBus().consumer(Addresses.health("broadcast"), msg -> msg.reply("ok")).completion());
  }

  /** Keeps delivering until this node's gateways have drained. */
  @Override
  public Future<?> stop() {
    return NodeState.of(vertx).gatewaysStopped(vertx, NodeState.drainWaitMs(config()));
  }

  private void onChange(Message<TenantChange> msg) {
    TenantChange change = msg.body();
    ProjectStream stream = streams.get(new ProjectKey(change.getTenantId(), change.getEvent().getProjectId()));
    if (stream != null) {
      stream.accept(change.getEvent(), event -> emit(stream, event));
      watchForGap(stream);
    }
  }

  /**
   * A gateway instance follows a project (its first subscriber of it), or a further subscriber needs to know where
   * the live stream stands. Replies once the stream knows the project's current seq, so nothing is missed.
   */
  private void follow(Message<FollowProject> msg) {
    FollowProject request = msg.body();
    ProjectKey key = new ProjectKey(request.tenantId(), request.projectId());
    ProjectStream stream = streams.get(key);
    Future<Void> ready;
    if (stream == null) {
      stream = new ProjectStream(key.tenantId(), key.projectId());
      streams.put(key, stream);
      ready = start(key, stream, request.correlationId());
      if (!ready.isComplete()) {
        starting.put(key, ready);
      }
    } else {
      ready = stream.ready() ? Future.succeededFuture() : starting.get(key);
    }
    if (request.follow()) {
      stream.gateways.add(request.gatewayAddress());
    }
    ProjectStream following = stream;
    ready
      .onSuccess(v -> msg.reply(new FollowResult(following.lastSeq()), LOCAL))
      .onFailure(failure -> Failures.reply(msg, failure));
  }

  private void unfollow(Message<UnfollowProject> msg) {
    UnfollowProject request = msg.body();
    ProjectKey key = new ProjectKey(request.tenantId(), request.projectId());
    ProjectStream stream = streams.get(key);
    if (stream != null && stream.gateways.remove(request.gatewayAddress()) && stream.gateways.isEmpty()) {
      streams.remove(key);
      vertx.cancelTimer(stream.gapTimer);
    }
  }

  /**
   * Starts a stream this node did not follow yet: reads the project's current seq; events committed meanwhile wait
   * in the stream (it is registered before the read) rather than being missed.
   */
  private Future<Void> start(ProjectKey key, ProjectStream stream, String correlationId) {
    ReadHistory current = ReadHistory.newBuilder().setProjectId(key.projectId()).build();
    return history(key.tenantId(), correlationId, current)
      .<Void>map(history -> {
        stream.start(history.getCurrentSeq(), event -> emit(stream, event));
        watchForGap(stream);
        return null;
      })
      .andThen(ar -> {
        starting.remove(key);
        if (ar.failed()) {
          streams.remove(key, stream);
        }
      });
  }

  private void emit(ProjectStream stream, ChangeEvent event) {
    if (stream.gateways.isEmpty()) {
      return;
    }
    ProjectFrame frame = new ProjectFrame(stream.tenantId, stream.projectId, event.getSeq(), Frames.changeEvent(event));
    for (String gateway : stream.gateways) {
      vertx.eventBus().send(gateway, frame, LOCAL);
    }
  }

  /** When events wait behind a missing one for longer than the cluster normally takes, read it from the history. */
  private void watchForGap(ProjectStream stream) {
    if (!stream.hasGap() || stream.gapTimer >= 0) {
      return;
    }
    stream.gapTimer = vertx.setTimer(gapFillDelayMs, id -> {
      stream.gapTimer = -1;
      if (!stream.hasGap() || streams.get(new ProjectKey(stream.tenantId, stream.projectId)) != stream) {
        return;
      }
      long after = stream.lastSeq();
      long upTo = stream.gapEnd();
      String correlationId = UUID.randomUUID().toString();
      ReadHistory read = ReadHistory.newBuilder().setProjectId(stream.projectId).setAfterSeq(after).setUpToSeq(upTo).build();
      history(stream.tenantId, correlationId, read)
        .onSuccess(history -> {
          history.getEventsList().forEach(event -> stream.accept(event, e -> emit(stream, e)));
          if (stream.hasGap() && stream.lastSeq() == after) {
            LOG.warn("events missing from the history; subscribers skip them", kv("tenantId", stream.tenantId),
              kv("projectId", stream.projectId), kv("afterSeq", after), kv("upToSeq", upTo));
            stream.skipGap(e -> emit(stream, e));
          }
        })
        .onFailure(err -> LOG.warn("could not fill a gap from the history", kv("correlationId", correlationId),
          kv("error", err.toString())))
        .onComplete(ar -> watchForGap(stream));
    });
  }

  private Future<History> history(String tenantId, String correlationId, ReadHistory read) {
    DeliveryOptions options = new DeliveryOptions()
      .setSendTimeout(dbTimeoutMs)
      .addHeader(Headers.CORRELATION_ID, correlationId)
      .addHeader(Headers.TENANT_ID, tenantId);
    return vertx.eventBus().<History>request(Addresses.DB_READ_HISTORY, read, options).map(Message::body);
  }

}

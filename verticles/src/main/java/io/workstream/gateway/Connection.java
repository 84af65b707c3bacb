package io.workstream.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.http.ServerWebSocket;
import io.workstream.bus.Addresses;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.Failures;
import io.workstream.bus.FollowProject;
import io.workstream.bus.FollowResult;
import io.workstream.bus.ProjectFrame;
import io.workstream.bus.RequestContext;
import io.workstream.bus.UnfollowProject;
import io.workstream.bus.WorkstreamException;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.Error;
import io.workstream.protocol.v1.Ping;
import io.workstream.protocol.v1.Pong;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.SubscribeAck;
import io.workstream.protocol.v1.SubscriptionState;
import io.workstream.protocol.v1.Unsubscribe;
import io.workstream.protocol.v1.UnsubscribeAck;
import io.workstream.workitems.Validation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One client's WebSocket: decodes its frames, answers each request with a {@code ServerMessage} that echoes its
 * {@code message_id}, keeps its project subscriptions and writes the change events they receive. Confined to the
 * event loop of the gateway instance that accepted it.
 */
final class Connection {

  private static final Logger LOG = LoggerFactory.getLogger(Connection.class);
  static final int MESSAGE_ID_MAX = 128;
  static final int PROJECTS_PER_SUBSCRIBE_MAX = 100;
  private static final DeliveryOptions LOCAL = new DeliveryOptions().setLocalOnly(true);

  private final GatewayServices gateway;
  private final ServerWebSocket ws;
  private final Principal principal;
  private final Map<String, ProjectSubscription> subscriptions = new HashMap<>();
  private boolean open = true;

  Connection(GatewayServices gateway, ServerWebSocket ws, Principal principal) {
    this.gateway = gateway;
    this.ws = ws;
    this.principal = principal;
  }

  void start() {
    ws.binaryMessageHandler(this::onFrame);
    ws.textMessageHandler(text -> {
      gateway.metrics().frameIn();
      send(error("", UUID.randomUUID().toString(),
        new WorkstreamException(ErrorCode.INVALID_MESSAGE, "frames must be binary protobuf ClientMessages")));
    });
    ws.exceptionHandler(err -> LOG.debug("websocket error", kv("tenantId", principal.tenantId()), err));
  }

  Principal principal() {
    return principal;
  }

  /** A change event for one of this connection's projects. */
  void deliver(ProjectFrame frame) {
    ProjectSubscription subscription = subscriptions.get(frame.projectId());
    if (subscription != null) {
      subscription.offer(frame, this::write);
    }
  }

  /** The socket closed, however it happened: give back the subscriptions. */
  void closed() {
    open = false;
    subscriptions.keySet().forEach(this::release);
    subscriptions.clear();
  }

  private void onFrame(Buffer frame) {
    gateway.metrics().frameIn();
    ClientMessage request;
    try {
      request = ClientMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      send(error("", UUID.randomUUID().toString(),
        new WorkstreamException(ErrorCode.DECODE_ERROR, "the frame is not a ClientMessage")));
      return;
    }
    String messageId = request.getMessageId();
    if (messageId.length() > MESSAGE_ID_MAX || messageId.chars().anyMatch(Character::isISOControl)) {
      send(error(messageId, UUID.randomUUID().toString(), WorkstreamException.validation("message_id",
        "message_id must be at most " + MESSAGE_ID_MAX + " printable characters (a UUID)")));
      return;
    }
    RequestContext ctx = new RequestContext(messageId.isEmpty() ? UUID.randomUUID().toString() : messageId,
      messageId, principal.tenantId(), principal.userId(), principal.roles());
    String operation = operation(request);
    long started = System.nanoTime();
    Future.succeededFuture(request)
      .compose(r -> switch (r.getPayloadCase()) {
        case PING -> Future.succeededFuture(pong(r.getPing()));
        case SUBSCRIBE -> subscribe(ctx, r.getSubscribe()).<ServerMessage>map(v -> null);
        case UNSUBSCRIBE -> Future.succeededFuture(unsubscribe(r.getUnsubscribe()));
        case CREATE_WORK_ITEM, UPDATE_WORK_ITEM, DELETE_WORK_ITEM, GET_WORK_ITEMS -> workItems(ctx, r);
        case PAYLOAD_NOT_SET -> Future.failedFuture(new WorkstreamException(ErrorCode.INVALID_MESSAGE,
          "the ClientMessage carries no operation this server knows"));
      })
      .onSuccess(reply -> {
        if (reply != null) {
          send(reply(ctx, reply));
        }
        done(ctx, operation, "OK", started);
      })
      .onFailure(failure -> {
        WorkstreamException known = Failures.from(failure);
        if (known.code() == ErrorCode.INTERNAL_ERROR && !(failure instanceof WorkstreamException)) {
          LOG.error("request failed unexpectedly", kv("correlationId", ctx.correlationId()), failure);
        }
        send(error(messageId, ctx.correlationId(), known));
        done(ctx, operation, known.code().name(), started);
      });
  }

  /** Meters the request and logs it (debug: one line per request, with its correlation id). */
  private void done(RequestContext ctx, String operation, String code, long startedNanos) {
    gateway.metrics().request(operation, code, startedNanos);
    if (LOG.isDebugEnabled()) {
      LOG.debug("request done", kv("correlationId", ctx.correlationId()), kv("tenantId", ctx.tenantId()),
        kv("userId", ctx.userId()), kv("operation", operation), kv("code", code),
        kv("micros", (System.nanoTime() - startedNanos) / 1_000));
    }
  }

  private Future<ServerMessage> workItems(RequestContext ctx, ClientMessage request) {
    return gateway.vertx().eventBus()
      .<ServerMessage>request(Addresses.WORK_ITEMS, request, ctx.deliveryOptions(gateway.config().requestTimeoutMs()))
      .map(Message::body);
  }

  /** The envelope of a reply: the request's message id, the chain's correlation id, the server clock. */
  private static ServerMessage reply(RequestContext ctx, ServerMessage payload) {
    return payload.toBuilder()
      .setMessageId(ctx.messageId())
      .setCorrelationId(ctx.correlationId())
      .setServerTimeMs(System.currentTimeMillis())
      .build();
  }

  private static ServerMessage pong(Ping ping) {
    return ServerMessage.newBuilder().setPong(Pong.newBuilder()
      .setClientTimeMs(ping.getClientTimeMs())
      .setServerTimeMs(System.currentTimeMillis())).build();
  }

  // --- subscriptions -----------------------------------------------------------------------------------------

  /**
   * Registers each project (holding its live events) and asks the broadcast for its current seq and any history
   * to replay; then sends the SubscribeAck, the replays, and goes live. Nothing is left subscribed on failure.
   */
  private Future<Void> subscribe(RequestContext ctx, Subscribe request) {
    if (!ctx.canRead()) {
      return Future.failedFuture(new WorkstreamException(ErrorCode.FORBIDDEN,
        "subscribing needs the viewer, member or admin role"));
    }
    Map<String, Long> cursors = cursors(request);
    Map<String, ProjectSubscription> added = new LinkedHashMap<>();
    List<Future<FollowResult>> answers = new ArrayList<>();
    cursors.forEach((projectId, afterSeq) -> {
      ProjectSubscription subscription = new ProjectSubscription();
      subscriptions.put(projectId, subscription);
      added.put(projectId, subscription);
      boolean first = gateway.index().add(principal.tenantId(), projectId, this);
      FollowProject follow = new FollowProject(principal.tenantId(), projectId, gateway.eventsAddress(), first,
        afterSeq, ctx.correlationId());
      answers.add(gateway.vertx().eventBus().<FollowResult>request(Addresses.BROADCAST_SUBSCRIBE, follow,
        new DeliveryOptions(LOCAL).setSendTimeout(gateway.config().requestTimeoutMs())).map(Message::body));
    });
    return Future.all(answers)
      .<Void>map(all -> {
        SubscribeAck.Builder ack = SubscribeAck.newBuilder();
        List<FollowResult> results = all.list();
        int i = 0;
        for (String projectId : added.keySet()) {
          FollowResult result = results.get(i++);
          boolean recovered = cursors.get(projectId) >= 0 && result.recovered();
          ack.addProjects(SubscriptionState.newBuilder()
            .setProjectId(projectId)
            .setCurrentSeq(result.currentSeq())
            .setRecovered(recovered)
            .setReplayed(recovered ? result.replay().size() : 0));
        }
        send(reply(ctx, ServerMessage.newBuilder().setSubscribeAck(ack).build()));
        i = 0;
        for (Map.Entry<String, ProjectSubscription> entry : added.entrySet()) {
          entry.getValue().start(cursors.get(entry.getKey()), results.get(i++), this::write);
        }
        return null;
      })
      .onFailure(failure -> added.forEach((projectId, subscription) -> {
        if (subscriptions.remove(projectId, subscription)) {
          release(projectId);
        }
      }));
  }

  /** The validated cursors of a Subscribe: canonical project id → after_seq, or NO_REPLAY. */
  private static Map<String, Long> cursors(Subscribe request) {
    if (request.getProjectsCount() == 0) {
      throw WorkstreamException.validation("projects", "name at least one project");
    }
    if (request.getProjectsCount() > PROJECTS_PER_SUBSCRIBE_MAX) {
      throw WorkstreamException.validation("projects", "at most " + PROJECTS_PER_SUBSCRIBE_MAX
        + " projects per Subscribe");
    }
    Map<String, Long> cursors = new LinkedHashMap<>();
    for (ProjectCursor cursor : request.getProjectsList()) {
      String projectId = Validation.uuid("project_id", cursor.getProjectId());
      if (cursor.hasAfterSeq() && cursor.getAfterSeq() < 0) {
        throw WorkstreamException.validation("after_seq", "after_seq cannot be negative");
      }
      if (cursors.put(projectId, cursor.hasAfterSeq() ? cursor.getAfterSeq() : FollowProject.NO_REPLAY) != null) {
        throw WorkstreamException.validation("projects", "project " + projectId + " is named twice");
      }
    }
    return cursors;
  }

  private ServerMessage unsubscribe(Unsubscribe request) {
    UnsubscribeAck.Builder ack = UnsubscribeAck.newBuilder();
    for (String raw : request.getProjectIdsList()) {
      String projectId = Validation.uuid("project_ids", raw);
      if (subscriptions.remove(projectId) != null) {
        release(projectId);
      }
      ack.addProjectIds(projectId);
    }
    return ServerMessage.newBuilder().setUnsubscribeAck(ack).build();
  }

  /** This connection no longer subscribes to the project; the instance unfollows it when nobody else does. */
  private void release(String projectId) {
    if (gateway.index().remove(principal.tenantId(), projectId, this)) {
      gateway.vertx().eventBus().send(Addresses.BROADCAST_UNSUBSCRIBE,
        new UnfollowProject(principal.tenantId(), projectId, gateway.eventsAddress()), LOCAL);
    }
  }

  // --- writing -----------------------------------------------------------------------------------------------

  void send(ServerMessage message) {
    write(Buffer.buffer(message.toByteArray()));
  }

  private void write(Buffer frame) {
    if (open) {
      ws.writeBinaryMessage(frame);
      gateway.metrics().frameOut();
    }
  }

  private static ServerMessage error(String messageId, String correlationId, WorkstreamException failure) {
    Error error = failure.toError();
    return ServerMessage.newBuilder()
      .setMessageId(messageId)
      .setCorrelationId(correlationId)
      .setServerTimeMs(System.currentTimeMillis())
      .setError(error)
      .build();
  }

  private static String operation(ClientMessage request) {
    return switch (request.getPayloadCase()) {
      case SUBSCRIBE -> "subscribe";
      case UNSUBSCRIBE -> "unsubscribe";
      case CREATE_WORK_ITEM -> "create";
      case UPDATE_WORK_ITEM -> "update";
      case DELETE_WORK_ITEM -> "delete";
      case GET_WORK_ITEMS -> "get";
      case PING -> "ping";
      case PAYLOAD_NOT_SET -> "unknown";
    };
  }
}

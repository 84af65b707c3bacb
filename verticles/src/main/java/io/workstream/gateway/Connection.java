package io.workstream.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.workstream.bus.Endpoints;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.Failures;
import io.workstream.bus.FollowProject;
import io.workstream.bus.ProjectFrame;
import io.workstream.bus.RequestContext;
import io.workstream.bus.RequestContexts;
import io.workstream.bus.UnfollowProject;
import io.workstream.bus.WorkstreamException;
import io.workstream.bus.proto.History;
import io.workstream.bus.proto.ReadHistory;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.SubscribeAck;
import io.workstream.protocol.v1.SubscriptionState;
import io.workstream.protocol.v1.Unsubscribe;
import io.workstream.protocol.v1.UnsubscribeAck;
import io.workstream.protocol.Validation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One client's WebSocket: admits its frames (rate, in-flight, size), answers each request with a
 * {@code ServerMessage} echoing its {@code message_id}, keeps its project subscriptions, and watches its health —
 * token expiry, heartbeat, idleness, a subscriber that falls behind or stops reading, a graceful shutdown. Confined
 * to the event loop of the gateway instance that accepted it.
 */
final class Connection implements Outbound.Listener {

  private static final Logger LOG = LoggerFactory.getLogger(Connection.class);
  static final int MESSAGE_ID_MAX = 128;
  static final int PROJECTS_PER_SUBSCRIBE_MAX = 100;

  /** WebSocket close codes the server uses (PROTOCOL.md). */
  static final short NORMAL = 1000;
  static final short GOING_AWAY = 1001;
  static final short POLICY = 1008;
  static final short TOO_BIG = 1009;
  static final short TRY_AGAIN_LATER = 1013;

  private final GatewayServices gateway;
  private final GatewayConfig config;
  private final ServerWebSocket ws;
  private final Principal principal;
  private final String id = UUID.randomUUID().toString();
  private final Outbound outbound;
  private final Admission admission;
  private final Map<String, ProjectSubscription> subscriptions = new HashMap<>();
  private long lastInboundMs = System.currentTimeMillis();
  private long lastPingMs = lastInboundMs;
  private long expiryTimer = -1;
  private long reconnectAfterMs = -1;
  private long lastAnswerMs;
  private boolean closeRequested;
  private boolean closing;

  Connection(GatewayServices gateway, ServerWebSocket ws, Principal principal) {
    this.gateway = gateway;
    this.config = gateway.config();
    this.ws = ws;
    this.principal = principal;
    this.outbound = new Outbound(ws, config.outbound(), gateway.metrics(), this);
    this.admission = new Admission(config.rateLimit(), config.maxInFlight());
  }

  void start() {
    ws.binaryMessageHandler(this::onFrame);
    ws.textMessageHandler(text -> {
      touch();
      if (admit("", "invalid")) {
        send(Envelopes.unsolicited(new WorkstreamException(ErrorCode.INVALID_MESSAGE,
          "frames must be binary protobuf ClientMessages")));
      }
    });
    ws.pongHandler(pong -> touch());
    ws.exceptionHandler(this::onSocketError);
    long untilExpiry = principal.expiresAtMs() + config.tokenExpiryGraceMs() - System.currentTimeMillis();
    if (untilExpiry <= 0) {
      expire();
    } else {
      expiryTimer = gateway.vertx().setTimer(untilExpiry, t -> expire());
    }
  }

  /** A change event for one of this connection's projects. */
  void deliver(ProjectFrame frame) {
    ProjectSubscription subscription = subscriptions.get(frame.projectId());
    if (subscription != null) {
      subscription.offer(frame);
    }
  }

  /** The socket closed, however it happened: give everything back. */
  void closed() {
    closing = true;
    gateway.vertx().cancelTimer(expiryTimer);
    outbound.close();
    subscriptions.values().forEach(s -> s.suspend(null));
    subscriptions.keySet().forEach(this::release);
    subscriptions.clear();
  }

  // --- inbound -----------------------------------------------------------------------------------------------

  /** A frame or message over the size limit is refused with 1009 (PROTOCOL.md); other socket errors end it. */
  private void onSocketError(Throwable err) {
    LOG.debug("websocket error", kv("connectionId", id), kv("error", err.toString()));
    if (err instanceof CorruptedWebSocketFrameException corrupt
      && corrupt.closeStatus().code() == WebSocketCloseStatus.MESSAGE_TOO_BIG.code()
      || err instanceof IllegalStateException && String.valueOf(err.getMessage()).contains("max message size")) {
      close(TOO_BIG, "frame too big", "too-big");
    }
  }

  private void onFrame(Buffer frame) {
    touch();
    if (closing) {
      return;
    }
    ClientMessage request;
    try {
      request = ClientMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      if (admit("", "invalid")) {
        send(Envelopes.unsolicited(new WorkstreamException(ErrorCode.DECODE_ERROR,
          "the frame is not a ClientMessage")));
      }
      return;
    }
    String messageId = request.getMessageId();
    String operation = operation(request);
    if (!admit(messageId, operation)) {
      return;
    }
    if (messageId.length() > MESSAGE_ID_MAX || messageId.chars().anyMatch(Character::isISOControl)) {
      send(Envelopes.error(messageId, UUID.randomUUID().toString(), WorkstreamException.validation("message_id",
        "message_id must be at most " + MESSAGE_ID_MAX + " printable characters (a UUID)")));
      return;
    }
    RequestContext ctx = new RequestContext(messageId.isEmpty() ? UUID.randomUUID().toString() : messageId,
      messageId, principal.tenantId(), principal.userId(), principal.roles());
    long started = System.nanoTime();
    if (reconnectAfterMs >= 0) {
      send(Envelopes.error(messageId, ctx.correlationId(), WorkstreamException.unavailable(
        "the server is shutting down; reconnect", reconnectAfterMs)));
      done(operation, ErrorCode.SERVICE_UNAVAILABLE.name(), started);
      return;
    }
    WorkstreamException busy = admission.claimInFlight();
    if (busy != null) {
      send(Envelopes.error(messageId, ctx.correlationId(), busy));
      done(operation, busy.code().name(), started);
      return;
    }
    RequestContexts.within(gateway.vertx(), ctx, () -> Future.succeededFuture(request)
      .compose(r -> switch (r.getPayloadCase()) {
        case PING -> Future.succeededFuture(Envelopes.pong(r.getPing()));
        case SUBSCRIBE -> subscribe(ctx, r.getSubscribe()).<ServerMessage>map(v -> null);
        case UNSUBSCRIBE -> Future.succeededFuture(unsubscribe(r.getUnsubscribe()));
        case CREATE_WORK_ITEM, UPDATE_WORK_ITEM, DELETE_WORK_ITEM, GET_WORK_ITEMS -> workItems(r);
        case PAYLOAD_NOT_SET -> Future.failedFuture(new WorkstreamException(ErrorCode.INVALID_MESSAGE,
          "the ClientMessage carries no operation this server knows"));
      }))
      .onSuccess(reply -> {
        if (reply != null) {
          send(Envelopes.reply(ctx, reply));
        }
        done(operation, "OK", started);
      })
      .onFailure(failure -> {
        WorkstreamException known = Failures.from(failure);
        if (known.code() == ErrorCode.INTERNAL_ERROR && !(failure instanceof WorkstreamException)) {
          LOG.error("request failed unexpectedly", failure);
        }
        send(Envelopes.error(messageId, ctx.correlationId(), known));
        done(operation, known.code().name(), started);
      })
      .onComplete(ar -> admission.answered());
  }

  /**
   * A message over the rate is refused with RATE_LIMITED (echoing its message id, so the client knows what to
   * resend) and not processed; a connection that keeps flooding after that is closed with 1008.
   */
  private boolean admit(String messageId, String operation) {
    WorkstreamException refused = admission.overRate();
    if (refused == null) {
      return true;
    }
    if (admission.abusive()) {
      close(POLICY, "rate limit exceeded repeatedly", "rate-abuse");
      return false;
    }
    boolean echo = !messageId.isEmpty() && messageId.length() <= MESSAGE_ID_MAX;
    send(Envelopes.error(echo ? messageId : "", echo ? messageId : UUID.randomUUID().toString(), refused));
    gateway.metrics().request(operation, refused.code().name(), System.nanoTime());
    return false;
  }

  private void touch() {
    lastInboundMs = System.currentTimeMillis();
  }

  /** Meters the request and logs it (debug: one line per request, with its correlation id). */
  private void done(String operation, String code, long startedNanos) {
    lastAnswerMs = System.currentTimeMillis();
    gateway.metrics().request(operation, code, startedNanos);
    if (LOG.isDebugEnabled()) {
      LOG.debug("request done", kv("operation", operation), kv("code", code),
        kv("micros", (System.nanoTime() - startedNanos) / 1_000));
    }
  }

  private Future<ServerMessage> workItems(ClientMessage request) {
    return gateway.bus().request(Endpoints.WORK_ITEMS, request, config.requestTimeoutMs());
  }

  // --- subscriptions -----------------------------------------------------------------------------------------

  /**
   * Registers each project (holding its live events), asks the broadcast where its live stream stands and, with
   * {@code after_seq}, reads the first page of history; then sends the SubscribeAck, and each subscription catches
   * up at the pace of this socket before it goes live. Nothing is left subscribed on failure.
   */
  private Future<Void> subscribe(RequestContext ctx, Subscribe request) {
    if (!ctx.canRead()) {
      return Future.failedFuture(new WorkstreamException(ErrorCode.FORBIDDEN,
        "subscribing needs the viewer, member or admin role"));
    }
    Map<String, Long> cursors = cursors(request);
    long fresh = cursors.keySet().stream().filter(p -> !subscriptions.containsKey(p)).count();
    if (subscriptions.size() + fresh > config.maxSubscriptions()) {
      throw WorkstreamException.validation("projects", "a connection may subscribe to at most "
        + config.maxSubscriptions() + " projects");
    }
    Map<String, ProjectSubscription> added = new LinkedHashMap<>();
    List<Future<SubscriptionStart>> starts = new ArrayList<>();
    cursors.forEach((projectId, afterSeq) -> {
      ProjectSubscription subscription = new ProjectSubscription(outbound, this::catchUpPage, projectId,
        config.replayPageSize());
      ProjectSubscription replaced = subscriptions.put(projectId, subscription);
      if (replaced != null) {
        replaced.suspend(null);
      }
      added.put(projectId, subscription);
      boolean first = gateway.index().add(principal.tenantId(), projectId, this);
      FollowProject follow = new FollowProject(principal.tenantId(), projectId, gateway.id(), first);
      starts.add(gateway.bus().request(Endpoints.BROADCAST_FOLLOW, follow, config.requestTimeoutMs())
        .compose(live -> afterSeq < 0
          ? Future.succeededFuture(new SubscriptionStart(live.currentSeq(), false, null))
          : readHistory(projectId, afterSeq, config.replayPageSize())
          .map(history -> new SubscriptionStart(history.getCurrentSeq(), history.getRecovered(), history))));
    });
    return Future.all(starts)
      .<Void>map(all -> {
        List<SubscriptionStart> results = all.list();
        SubscribeAck.Builder ack = SubscribeAck.newBuilder();
        int i = 0;
        for (String projectId : added.keySet()) {
          SubscriptionStart start = results.get(i++);
          long afterSeq = cursors.get(projectId);
          boolean recovered = afterSeq >= 0 && start.recovered();
          ack.addProjects(SubscriptionState.newBuilder()
            .setProjectId(projectId)
            .setCurrentSeq(start.currentSeq())
            .setRecovered(recovered)
            .setReplayed(recovered ? (int) Math.max(0, start.currentSeq() - afterSeq) : 0));
        }
        send(Envelopes.reply(ctx, ServerMessage.newBuilder().setSubscribeAck(ack).build()));
        i = 0;
        for (Map.Entry<String, ProjectSubscription> entry : added.entrySet()) {
          SubscriptionStart start = results.get(i++);
          entry.getValue().start(cursors.get(entry.getKey()), start.recovered(), start.currentSeq(),
            start.firstPage() == null ? List.of() : start.firstPage().getEventsList());
        }
        return null;
      })
      .onFailure(failure -> added.forEach((projectId, subscription) -> {
        if (subscriptions.remove(projectId, subscription)) {
          subscription.suspend(null);
          release(projectId);
        }
      }));
  }

  /** Where one subscription starts: the live seq, and for a cursor whether and how the history reaches it. */
  private record SubscriptionStart(long currentSeq, boolean recovered, History firstPage) {
  }

  /** The validated cursors of a Subscribe: canonical project id → after_seq, or -1 for none. */
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
      if (cursors.put(projectId, cursor.hasAfterSeq() ? cursor.getAfterSeq() : -1L) != null) {
        throw WorkstreamException.validation("projects", "project " + projectId + " is named twice");
      }
    }
    return cursors;
  }

  private ServerMessage unsubscribe(Unsubscribe request) {
    UnsubscribeAck.Builder ack = UnsubscribeAck.newBuilder();
    for (String raw : request.getProjectIdsList()) {
      String projectId = Validation.uuid("project_ids", raw);
      ProjectSubscription removed = subscriptions.remove(projectId);
      if (removed != null) {
        removed.suspend(null);
        release(projectId);
      }
      ack.addProjectIds(projectId);
    }
    return ServerMessage.newBuilder().setUnsubscribeAck(ack).build();
  }

  /** This connection no longer subscribes to the project; the instance unfollows it when nobody else does. */
  private void release(String projectId) {
    if (gateway.index().remove(principal.tenantId(), projectId, this)) {
      gateway.bus().send(Endpoints.BROADCAST_UNFOLLOW, new UnfollowProject(principal.tenantId(), projectId,
        gateway.id()));
    }
  }

  /** A catch-up page for a subscription, outside any request: a chain of its own for this connection's user. */
  private Future<History> catchUpPage(String projectId, long afterSeq, int limit) {
    RequestContext reader = new RequestContext(UUID.randomUUID().toString(), "", principal.tenantId(),
      principal.userId(), principal.roles());
    return RequestContexts.within(gateway.vertx(), reader, () -> readHistory(projectId, afterSeq, limit));
  }

  private Future<History> readHistory(String projectId, long afterSeq, int limit) {
    ReadHistory read = ReadHistory.newBuilder().setProjectId(projectId).setAfterSeq(afterSeq).setLimit(limit).build();
    return gateway.bus().request(Endpoints.READ_HISTORY, read, config.requestTimeoutMs());
  }

  // --- falling behind ----------------------------------------------------------------------------------------

  /** The outbound queue overflowed: every live subscription stops where it got to, and the client is told. */
  @Override
  public Buffer lagged(Map<String, Long> firstDropped) {
    List<ProjectCursor> cursors = new ArrayList<>();
    subscriptions.forEach((projectId, subscription) -> {
      if (subscription.state() == ProjectSubscription.State.LIVE || firstDropped.containsKey(projectId)) {
        cursors.add(subscription.suspend(firstDropped.get(projectId)));
      }
    });
    if (cursors.isEmpty()) {
      return null;
    }
    LOG.debug("subscriber lagged", kv("connectionId", id), kv("tenantId", principal.tenantId()));
    return Envelopes.frame(Envelopes.lagged(cursors));
  }

  /** The client reads nothing at all: tell it if the socket still takes a frame, and close it. */
  @Override
  public void slow() {
    if (closing) {
      return;
    }
    // Straight to the socket, past the full queue: one small frame, if the socket still takes it.
    ws.writeBinaryMessage(Envelopes.frame(Envelopes.unsolicited(new WorkstreamException(ErrorCode.SLOW_CLIENT,
      "the connection does not read its messages"))));
    close(TRY_AGAIN_LATER, "slow client", "slow-client");
  }

  // --- lifecycle ---------------------------------------------------------------------------------------------

  /** Heartbeat, idle and stall checks; called periodically by the gateway instance. */
  void tick(long nowMs) {
    if (closing) {
      return;
    }
    GatewayConfig.Heartbeat heartbeat = config.heartbeat();
    if (reconnectAfterMs >= 0 && admission.idle() && nowMs - lastAnswerMs >= config.drain().quietMs()) {
      closeWhenFlushed(GOING_AWAY, "server shutting down");
    } else if (nowMs - lastInboundMs > heartbeat.idleTimeoutMs()) {
      close(NORMAL, "idle timeout", "idle");
    } else if (outbound.stalled(nowMs)) {
      slow();
    } else if (nowMs - lastPingMs >= heartbeat.pingIntervalMs()) {
      lastPingMs = nowMs;
      ws.writePing(Buffer.buffer(Long.toString(nowMs)));
    }
  }

  /**
   * The node is shutting down: the client is told to reconnect after a jittered delay, requests in flight are
   * answered, new ones refused, and once it has been quiet for a moment ({@link #tick}) the socket closes with 1001
   * after everything went out.
   */
  void drain() {
    if (closing || reconnectAfterMs >= 0) {
      return;
    }
    reconnectAfterMs = ThreadLocalRandom.current().nextLong(config.drain().reconnectSpreadMs() + 1);
    lastAnswerMs = System.currentTimeMillis();
    send(Envelopes.goodbye("server shutting down", reconnectAfterMs));
  }

  /** The drain time is up. */
  void closeNow() {
    close(GOING_AWAY, "server shutting down", "shutdown");
  }

  private void expire() {
    send(Envelopes.unsolicited(new WorkstreamException(ErrorCode.TOKEN_EXPIRED,
      "the token has expired; reconnect with a new one")));
    closeWhenFlushed(POLICY, "token expired");
  }

  private void closeWhenFlushed(short code, String reason) {
    if (!closeRequested) {
      closeRequested = true;
      outbound.whenWritable(() -> close(code, reason, code == GOING_AWAY ? "shutdown" : "token-expired"));
    }
  }

  private void close(short code, String reason, String metricReason) {
    if (closing) {
      return;
    }
    closing = true;
    gateway.metrics().closedByServer(metricReason);
    if (code != GOING_AWAY && code != NORMAL) {
      // A client closed for misbehaving gets nothing more read from it (a flood stops costing us anything); it has
      // the closing timeout to acknowledge before the socket goes.
      ws.pause();
    }
    ws.close(code, reason);
  }

  // --- writing -----------------------------------------------------------------------------------------------

  void send(ServerMessage message) {
    outbound.send(Envelopes.frame(message));
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

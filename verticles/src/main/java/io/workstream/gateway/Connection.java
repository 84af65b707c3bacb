package io.workstream.gateway;

import com.google.protobuf.InvalidProtocolBufferException;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.github.bucket4j.Bucket;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.workstream.bus.Endpoints;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.Failures;
import io.workstream.bus.RequestContext;
import io.workstream.bus.RequestContexts;
import io.workstream.bus.WorkstreamException;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.ServerMessage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One client's WebSocket: hands each admitted frame to its operation and answers it with a {@code ServerMessage}
 * echoing its {@code message_id}, and watches the connection's life — token expiry, heartbeat, idleness, a client
 * that stops reading, a graceful shutdown — closing it with the code and metrics reason each calls for. Its limits
 * ({@link Admission}), subscriptions ({@link Subscriptions}) and way out ({@link Outbound}) are its parts. Confined to
 * the event loop of the gateway instance that accepted it.
 */
final class Connection {

  private static final Logger LOG = LoggerFactory.getLogger(Connection.class);
  static final int MESSAGE_ID_MAX = 128;

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
  private final ReadPacer pacer = new ReadPacer();
  private final Admission admission;
  private final Subscriptions subscriptions;
  /** The token's exp (plus the configured grace): no frame read from then on is executed. */
  private final long expiresAtMs;
  private long lastInboundMs = System.currentTimeMillis();
  private long lastPingMs = lastInboundMs;
  private long reconnectAfterMs = -1;
  private long lastAnswerMs;
  private boolean closeRequested;
  private boolean closing;
  private boolean socketClosed;
  private boolean expired;

  Connection(GatewayServices gateway, ServerWebSocket ws, Principal principal, GatewayConfig.RateLimit rate,
             Bucket tenantRate) {
    this.gateway = gateway;
    this.config = gateway.config();
    this.ws = ws;
    this.principal = principal;
    ConnectionBudget budget = new ConnectionBudget(config, gateway.metrics());
    this.outbound = new Outbound(ws, gateway, budget);
    this.admission = new Admission(rate, config.maxInFlight(), tenantRate);
    this.subscriptions = new Subscriptions(gateway, principal, id, outbound, budget, pacer);
    this.expiresAtMs = principal.expiresAtMs() + config.tokenExpiryGraceMs();
    // The queue only reports, one way: dropped events stop the subscriptions where they got to (they say where, in
    // the Lagged it sends); a client that reads nothing at all is closed.
    outbound.onOverflow(subscriptions::lagged, this::slow);
  }

  void start() {
    ws.binaryMessageHandler(this::onFrame);
    ws.textMessageHandler(text -> {
      touch();
      if (!closing && !pastExpiry() && admit("", "invalid", 1)) {
        send(Envelopes.unsolicited(new WorkstreamException(ErrorCode.INVALID_MESSAGE,
          "frames must be binary protobuf ClientMessages")));
      }
    });
    ws.pongHandler(pong -> touch());
    ws.exceptionHandler(this::onSocketError);
    // Later, the gateway's tick notices the expiry: a timer of its own would cost each connection a few hundred bytes.
    pastExpiry();
  }

  /** The socket closed, however it happened: give everything back. */
  void closed() {
    closing = true;
    socketClosed = true;
    pacer.close();
    outbound.close();
    subscriptions.close();
    admission.close();
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
    if (closing || pastExpiry()) {
      return;
    }
    ClientMessage request;
    try {
      request = ClientMessage.parseFrom(frame.getBytes());
    } catch (InvalidProtocolBufferException e) {
      if (admit("", "invalid", 1)) {
        send(Envelopes.unsolicited(new WorkstreamException(ErrorCode.DECODE_ERROR,
          "the frame is not a ClientMessage")));
      }
      return;
    }
    String messageId = request.getMessageId();
    String operation = operation(request);
    if (!admit(messageId, operation, admission.cost(request))) {
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
        case SUBSCRIBE -> subscriptions.subscribe(ctx, r.getSubscribe()).<ServerMessage>map(v -> null);
        case UNSUBSCRIBE -> Future.succeededFuture(subscriptions.unsubscribe(r.getUnsubscribe()));
        case CREATE_WORK_ITEM, UPDATE_WORK_ITEM, DELETE_WORK_ITEM -> workItems(r);
        // A page can be large: one at a time per connection, asked for once the previous one has gone out.
        case GET_WORK_ITEMS -> pacer.turn().compose(v -> workItems(r));
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
      .onComplete(ar -> {
        admission.answered();
        if (request.getPayloadCase() == ClientMessage.PayloadCase.GET_WORK_ITEMS) {
          // The next page is read once this one has left the queue and the socket has room (closed: never).
          outbound.whenWritable(pacer::done);
        }
      });
  }

  /**
   * A message over the rate is refused with RATE_LIMITED (echoing its message id, so the client knows what to
   * resend, and when) and not processed; a connection that ignores that advice is closed with 1008.
   */
  private boolean admit(String messageId, String operation, int cost) {
    WorkstreamException refused = admission.overRate(messageId.length() <= MESSAGE_ID_MAX ? messageId : "", cost);
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

  /**
   * Whether the token has expired, checked against the clock for each frame: the tick that closes an idle connection
   * at its expiry comes up to a tick late (later on a busy event loop), and the close it starts waits for the client
   * to read what is queued before it.
   */
  private boolean pastExpiry() {
    if (!expired && System.currentTimeMillis() >= expiresAtMs) {
      expire();
    }
    return expired;
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

  // --- lifecycle ---------------------------------------------------------------------------------------------

  /** Token expiry, heartbeat, idle and stall checks; called periodically by the gateway instance. */
  void tick(long nowMs) {
    if (closing) {
      return;
    }
    pastExpiry();
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

  /** The client reads nothing at all: tell it if the socket still takes a frame, and close it. */
  private void slow() {
    if (closing) {
      return;
    }
    // Straight to the socket, past the full queue: one small frame, if the socket still takes it.
    outbound.sendNow(Envelopes.frame(Envelopes.unsolicited(new WorkstreamException(ErrorCode.SLOW_CLIENT,
      "the connection does not read its messages"))));
    close(TRY_AGAIN_LATER, "slow client", "slow-client");
  }

  private void expire() {
    if (expired) {
      return;
    }
    expired = true;
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
    // Frames written so far go out before the close frame; none after it.
    outbound.stopWriting();
    ws.close(code, reason);
    // Vert.x starts its closing timeout only once the close frame is written: a client that reads nothing never lets
    // it be, and would keep its socket, and all that is queued for it, for ever.
    gateway.vertx().setTimer(TimeUnit.SECONDS.toMillis(GatewayVerticle.CLOSING_TIMEOUT_SECONDS + 1), t -> {
      if (!socketClosed) {
        outbound.abort();
      }
    });
  }

  // --- writing -----------------------------------------------------------------------------------------------

  private void send(ServerMessage message) {
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

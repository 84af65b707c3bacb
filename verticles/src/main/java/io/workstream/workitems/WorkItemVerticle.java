package io.workstream.workitems;

import com.google.protobuf.ByteString;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.workstream.Observability;
import io.workstream.bus.Bus;
import io.workstream.bus.Endpoints;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.NodeState;
import io.workstream.bus.RequestContext;
import io.workstream.bus.WorkstreamException;
import io.workstream.bus.proto.DeleteItem;
import io.workstream.bus.proto.Mutation;
import io.workstream.config.Json;
import io.workstream.protocol.Validation;
import io.workstream.protocol.WorkItems;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.DeleteWorkItem;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItemAck;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;

/**
 * The work-item handlers: the role check and the validation of every field, then one hop to this node's DB
 * verticle, which applies the change — version check, rules that need other rows, change list — in one
 * transaction.
 *
 * <p>Consumes {@code workstream.work-items.handlers} (node: {@code ClientMessage} in, {@code ServerMessage} payload
 * out, failures as protocol codes), fed by the core unit's front door. Sends {@code workstream.db.mutate} and
 * {@code workstream.db.list-items} (node).
 */
public final class WorkItemVerticle extends VerticleBase {

  private Bus bus;
  private long dbTimeoutMs;
  private MeterRegistry registry;

  @Override
  public Future<?> start() {
    bus = Bus.of(vertx);
    dbTimeoutMs = Json.section(config(), "workItems").getLong("dbTimeoutMs", 6_000L);
    registry = Observability.registry(config());
    return bus.serve(Endpoints.WORK_ITEM_HANDLERS, (ctx, request) -> {
      handled(request.getPayloadCase());
      return handle(ctx, request);
    }).completion();
  }

  /** Requests this node's handlers took, by operation: how a cluster's core nodes share the work. */
  private void handled(ClientMessage.PayloadCase operation) {
    registry.counter("workstream.work.items.handled", "operation", operation.name().toLowerCase(Locale.ROOT)).increment();
  }

  /** Keeps answering until this node's gateways have drained: their requests in flight need us. */
  @Override
  public Future<?> stop() {
    return NodeState.of(vertx).gatewaysStopped(vertx, NodeState.drainWaitMs(config()));
  }

  private Future<ServerMessage> handle(RequestContext ctx, ClientMessage request) {
    return switch (request.getPayloadCase()) {
      case CREATE_WORK_ITEM -> create(ctx, request);
      case UPDATE_WORK_ITEM -> update(ctx, request);
      case DELETE_WORK_ITEM -> delete(ctx, request);
      case GET_WORK_ITEMS -> get(ctx, request.getGetWorkItems());
      default -> Future.failedFuture(new WorkstreamException(ErrorCode.INVALID_MESSAGE,
        "not a work-item operation: " + request.getPayloadCase()));
    };
  }

  private Future<ServerMessage> create(RequestContext ctx, ClientMessage message) {
    requireWriter(ctx);
    long now = System.currentTimeMillis();
    return mutate(message, Mutation.newBuilder().setCreate(WorkItems.create(ctx, message.getCreateWorkItem(), now))
      .setNowMs(now));
  }

  private Future<ServerMessage> update(RequestContext ctx, ClientMessage message) {
    requireWriter(ctx);
    UpdateWorkItem request = message.getUpdateWorkItem();
    Validation.updateRequest(request);
    UpdateWorkItem canonical = request.toBuilder()
      .setWorkItemId(Validation.uuid("work_item_id", request.getWorkItemId()))
      .build();
    return mutate(message, Mutation.newBuilder().setUpdate(canonical).setNowMs(System.currentTimeMillis()));
  }

  private Future<ServerMessage> delete(RequestContext ctx, ClientMessage message) {
    requireWriter(ctx);
    DeleteWorkItem request = message.getDeleteWorkItem();
    Validation.deleteRequest(request);
    DeleteItem.Builder delete = DeleteItem.newBuilder()
      .setWorkItemId(Validation.uuid("work_item_id", request.getWorkItemId()));
    if (request.hasExpectedVersion()) {
      delete.setExpectedVersion(request.getExpectedVersion());
    }
    return mutate(message, Mutation.newBuilder().setDelete(delete).setNowMs(System.currentTimeMillis()));
  }

  private Future<ServerMessage> get(RequestContext ctx, GetWorkItems request) {
    if (!ctx.canRead()) {
      throw new WorkstreamException(ErrorCode.FORBIDDEN, "reading work items needs the viewer, member or admin role");
    }
    Validation.getRequest(request);
    return bus.request(Endpoints.DB_LIST_ITEMS, request, dbTimeoutMs)
      .map(list -> ServerMessage.newBuilder().setWorkItemList(list).build());
  }

  /** Sends the mutation with the fingerprint of the request it came from (what its message id stands for). */
  private Future<ServerMessage> mutate(ClientMessage request, Mutation.Builder mutation) {
    return bus.request(Endpoints.DB_MUTATE, mutation.setRequestFingerprint(fingerprint(request)).build(), dbTimeoutMs)
      .map(WorkItemVerticle::ack);
  }

  private static ByteString fingerprint(ClientMessage request) {
    try {
      return ByteString.copyFrom(MessageDigest.getInstance("SHA-256")
        .digest(request.toBuilder().clearMessageId().build().toByteArray()));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  private static void requireWriter(RequestContext ctx) {
    if (!ctx.canWrite()) {
      throw new WorkstreamException(ErrorCode.FORBIDDEN, "changing work items needs the member or admin role");
    }
  }

  private static ServerMessage ack(WorkItemAck ack) {
    return ServerMessage.newBuilder().setWorkItemAck(ack).build();
  }
}

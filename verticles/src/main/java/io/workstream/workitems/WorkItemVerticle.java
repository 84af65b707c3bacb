package io.workstream.workitems;

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
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.DeleteWorkItem;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItemAck;

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
      case CREATE_WORK_ITEM -> create(ctx, request.getCreateWorkItem());
      case UPDATE_WORK_ITEM -> update(ctx, request.getUpdateWorkItem());
      case DELETE_WORK_ITEM -> delete(ctx, request.getDeleteWorkItem());
      case GET_WORK_ITEMS -> get(ctx, request.getGetWorkItems());
      default -> Future.failedFuture(new WorkstreamException(ErrorCode.INVALID_MESSAGE,
        "not a work-item operation: " + request.getPayloadCase()));
    };
  }

  private Future<ServerMessage> create(RequestContext ctx, CreateWorkItem request) {
    requireWriter(ctx);
    long now = System.currentTimeMillis();
    return mutate(Mutation.newBuilder().setCreate(WorkItems.create(ctx, request, now)).setNowMs(now));
  }

  private Future<ServerMessage> update(RequestContext ctx, UpdateWorkItem request) {
    requireWriter(ctx);
    Validation.updateRequest(request);
    UpdateWorkItem canonical = request.toBuilder()
      .setWorkItemId(Validation.uuid("work_item_id", request.getWorkItemId()))
      .build();
    return mutate(Mutation.newBuilder().setUpdate(canonical).setNowMs(System.currentTimeMillis()));
  }

  private Future<ServerMessage> delete(RequestContext ctx, DeleteWorkItem request) {
    requireWriter(ctx);
    Validation.deleteRequest(request);
    DeleteItem.Builder delete = DeleteItem.newBuilder()
      .setWorkItemId(Validation.uuid("work_item_id", request.getWorkItemId()));
    if (request.hasExpectedVersion()) {
      delete.setExpectedVersion(request.getExpectedVersion());
    }
    return mutate(Mutation.newBuilder().setDelete(delete).setNowMs(System.currentTimeMillis()));
  }

  private Future<ServerMessage> get(RequestContext ctx, GetWorkItems request) {
    if (!ctx.canRead()) {
      throw new WorkstreamException(ErrorCode.FORBIDDEN, "reading work items needs the viewer, member or admin role");
    }
    Validation.getRequest(request);
    return bus.request(Endpoints.DB_LIST_ITEMS, request, dbTimeoutMs)
      .map(list -> ServerMessage.newBuilder().setWorkItemList(list).build());
  }

  private Future<ServerMessage> mutate(Mutation.Builder mutation) {
    return bus.request(Endpoints.DB_MUTATE, mutation.build(), dbTimeoutMs).map(WorkItemVerticle::ack);
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

package io.workstream.workitems;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.workstream.bus.Addresses;
import io.workstream.bus.Codecs;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.Failures;
import io.workstream.bus.NodeState;
import io.workstream.bus.RequestContext;
import io.workstream.bus.WorkstreamException;
import io.workstream.bus.proto.CreateItem;
import io.workstream.bus.proto.DeleteItem;
import io.workstream.bus.proto.LoadItem;
import io.workstream.bus.proto.LoadedItem;
import io.workstream.bus.proto.UpdateItem;
import io.workstream.config.Json;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.CreateWorkItem;
import io.workstream.protocol.v1.DeleteWorkItem;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.UpdateWorkItem;
import io.workstream.protocol.v1.WorkItemAck;
import io.workstream.protocol.v1.WorkItemList;

/**
 * The work-item handlers: role checks, validation and the rules of the protocol, then the DB verticle.
 *
 * <p>Consumes {@code workstream.work-items} (request/reply: {@code ClientMessage} in, {@code ServerMessage} payload
 * out, failures as protocol codes). Sends to {@code workstream.db.*}.
 */
public final class WorkItemVerticle extends VerticleBase {

  private long dbTimeoutMs;

  @Override
  public Future<?> start() {
    Codecs.register(vertx);
    dbTimeoutMs = Json.section(config(), "workItems").getLong("dbTimeoutMs", 6_000L);
    return Future.join(
      vertx.eventBus().consumer(Addresses.WORK_ITEMS, this::handle).completion(),
      vertx.eventBus().consumer(Addresses.health("work-items"), msg -> msg.reply("ok")).completion());
  }

  /** Keeps answering until this node's gateways have drained: their requests in flight need us. */
  @Override
  public Future<?> stop() {
    return NodeState.of(vertx).gatewaysStopped(vertx, NodeState.drainWaitMs(config()));
  }

  private void handle(Message<ClientMessage> msg) {
    RequestContext ctx = RequestContext.from(msg.headers());
    ClientMessage request = msg.body();
    Future.succeededFuture(request)
      .compose(r -> switch (r.getPayloadCase()) {
        case CREATE_WORK_ITEM -> create(ctx, r.getCreateWorkItem());
        case UPDATE_WORK_ITEM -> update(ctx, r.getUpdateWorkItem());
        case DELETE_WORK_ITEM -> delete(ctx, r.getDeleteWorkItem());
        case GET_WORK_ITEMS -> get(ctx, r.getGetWorkItems());
        default -> Future.failedFuture(new WorkstreamException(ErrorCode.INVALID_MESSAGE,
          "not a work-item operation: " + r.getPayloadCase()));
      })
      .onSuccess(reply -> msg.reply(reply, ctx.replyOptions()))
      .onFailure(failure -> Failures.reply(msg, failure));
  }

  private Future<ServerMessage> create(RequestContext ctx, CreateWorkItem request) {
    requireWriter(ctx);
    CreateItem create = CreateItem.newBuilder()
      .setItem(WorkItems.create(ctx, request, System.currentTimeMillis()))
      .build();
    return this.<WorkItemAck>db(Addresses.DB_CREATE_ITEM, ctx, create).map(WorkItemVerticle::ack);
  }

  /**
   * Loads the item (or the stored reply of a resent message id), checks the expected version, computes the change
   * and asks the database to apply it if the version is still the one it was computed from.
   */
  private Future<ServerMessage> update(RequestContext ctx, UpdateWorkItem request) {
    requireWriter(ctx);
    Validation.updateRequest(request);
    String id = Validation.uuid("work_item_id", request.getWorkItemId());
    return this.<LoadedItem>db(Addresses.DB_LOAD_ITEM, ctx, LoadItem.newBuilder().setWorkItemId(id).build())
      .compose(loaded -> {
        if (loaded.hasStoredReply()) {
          return Future.succeededFuture(loaded.getStoredReply());
        }
        if (loaded.getItem().getVersion() != request.getExpectedVersion()) {
          return Future.failedFuture(new WorkstreamException(ErrorCode.CONFLICT, "expected version "
            + request.getExpectedVersion() + " but the item is at version " + loaded.getItem().getVersion()));
        }
        WorkItems.Updated updated = WorkItems.update(ctx, request, loaded.getItem(), System.currentTimeMillis());
        if (updated.changes().isEmpty()) {
          return Future.succeededFuture(WorkItemAck.newBuilder().setItem(updated.item()).setSeq(0).build());
        }
        return db(Addresses.DB_UPDATE_ITEM, ctx, UpdateItem.newBuilder()
          .setItem(updated.item())
          .setExpectedVersion(request.getExpectedVersion())
          .addAllChanges(updated.changes())
          .build());
      })
      .map(WorkItemVerticle::ack);
  }

  private Future<ServerMessage> delete(RequestContext ctx, DeleteWorkItem request) {
    requireWriter(ctx);
    Validation.deleteRequest(request);
    DeleteItem.Builder delete = DeleteItem.newBuilder().setWorkItemId(Validation.uuid("work_item_id",
      request.getWorkItemId()));
    if (request.hasExpectedVersion()) {
      delete.setExpectedVersion(request.getExpectedVersion());
    }
    return this.<WorkItemAck>db(Addresses.DB_DELETE_ITEM, ctx, delete.build()).map(WorkItemVerticle::ack);
  }

  private Future<ServerMessage> get(RequestContext ctx, GetWorkItems request) {
    if (!ctx.canRead()) {
      throw new WorkstreamException(ErrorCode.FORBIDDEN, "reading work items needs the viewer, member or admin role");
    }
    Validation.getRequest(request);
    return this.<WorkItemList>db(Addresses.DB_LIST_ITEMS, ctx, request)
      .map(list -> ServerMessage.newBuilder().setWorkItemList(list).build());
  }

  private <T> Future<T> db(String address, RequestContext ctx, Object body) {
    return vertx.eventBus().<T>request(address, body, ctx.deliveryOptions(dbTimeoutMs)).map(Message::body);
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

package io.workstream.bus;

import io.vertx.core.json.JsonObject;
import io.workstream.bus.proto.CurrentSeqs;
import io.workstream.bus.proto.Histories;
import io.workstream.bus.proto.History;
import io.workstream.bus.proto.ReadHistories;
import io.workstream.bus.proto.Mutation;
import io.workstream.bus.proto.ReadCurrentSeqs;
import io.workstream.bus.proto.ReadHistory;
import io.workstream.bus.proto.TenantChange;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.WorkItemAck;
import io.workstream.protocol.v1.WorkItemList;

/**
 * Every event-bus endpoint of Workstream, with its scope. The <em>edge</em> unit (gateway + broadcast) and the
 * <em>core</em> unit (work-item handlers + DB access) meet only at the CLUSTER endpoints; NODE endpoints never
 * leave the node. Each CLUSTER endpoint has exactly one consumer per node of the unit that serves it, so Vert.x
 * spreads requests evenly over those nodes (its node selector starves a node with fewer consumers than another).
 */
public final class Endpoints {

  private static final long DEFAULT_TIMEOUT_MS = 5_000;
  private static final long PROBE_TIMEOUT_MS = 1_000;

  // --- edge → core ----------------------------------------------------------------------------------------------

  /** A work-item request, to any core node (its one front-door consumer hands it to a local handler). */
  public static final Endpoint<ClientMessage, ServerMessage> WORK_ITEMS =
    Endpoint.cluster("workstream.work-items", ClientMessage.class, ServerMessage.class, DEFAULT_TIMEOUT_MS);

  /** The project's current seq and retained events after a cursor; answered by any core node's DB verticle. */
  public static final Endpoint<ReadHistory, History> READ_HISTORY =
    Endpoint.cluster("workstream.history", ReadHistory.class, History.class, DEFAULT_TIMEOUT_MS);

  /**
   * The history of many projects in one query: one Subscribe's cursors, or a connection's subscriptions waiting for
   * their next page.
   */
  public static final Endpoint<ReadHistories, Histories> READ_HISTORIES =
    Endpoint.cluster("workstream.histories", ReadHistories.class, Histories.class, DEFAULT_TIMEOUT_MS);

  /** The current seqs of many projects in one query (the edge's periodic check for changes it never received). */
  public static final Endpoint<ReadCurrentSeqs, CurrentSeqs> READ_CURRENT_SEQS =
    Endpoint.cluster("workstream.current-seqs", ReadCurrentSeqs.class, CurrentSeqs.class, DEFAULT_TIMEOUT_MS);

  /**
   * Forgets a warm-up's tenant (and any warm-up's a dead node left behind): answered by any core node's DB verticle
   * with the number of items removed; refuses tenants that are not warm-ups'.
   */
  public static final Endpoint<String, Long> PURGE_WARMUP =
    Endpoint.cluster("workstream.warmup.purge", String.class, Long.class, DEFAULT_TIMEOUT_MS);

  // --- core → edge ----------------------------------------------------------------------------------------------

  /** Published once per committed change; every edge node's broadcast receives it once. */
  public static final Endpoint<TenantChange, Void> CHANGES =
    Endpoint.cluster("workstream.changes", TenantChange.class, Void.class, DEFAULT_TIMEOUT_MS);

  // --- inside the core unit -------------------------------------------------------------------------------------

  /** The node's work-item handler instances, fed by the core unit's front door. */
  public static final Endpoint<ClientMessage, ServerMessage> WORK_ITEM_HANDLERS =
    Endpoint.node("workstream.work-items.handlers", ClientMessage.class, ServerMessage.class, DEFAULT_TIMEOUT_MS);

  /** A checked mutation, applied by this node's DB verticle in one transaction. */
  public static final Endpoint<Mutation, WorkItemAck> DB_MUTATE =
    Endpoint.node("workstream.db.mutate", Mutation.class, WorkItemAck.class,
      DEFAULT_TIMEOUT_MS);

  /** A page of a project's items, read by this node's DB verticle. */
  public static final Endpoint<GetWorkItems, WorkItemList>
    DB_LIST_ITEMS = Endpoint.node("workstream.db.list-items", GetWorkItems.class,
    WorkItemList.class, DEFAULT_TIMEOUT_MS);

  // --- inside the edge unit -------------------------------------------------------------------------------------

  /** A gateway instance asks its node's broadcast to follow a project. */
  public static final Endpoint<FollowProject, FollowResult> BROADCAST_FOLLOW =
    Endpoint.node("workstream.broadcast.follow", FollowProject.class, FollowResult.class, DEFAULT_TIMEOUT_MS);

  /** A gateway instance no longer needs a project's events. */
  public static final Endpoint<UnfollowProject, Void> BROADCAST_UNFOLLOW =
    Endpoint.node("workstream.broadcast.unfollow", UnfollowProject.class, Void.class, DEFAULT_TIMEOUT_MS);

  /** One gateway instance's inbox of encoded change events ({@link Endpoint#instance} names the instance). */
  public static final Endpoint<ProjectFrame, Void> GATEWAY_EVENTS =
    Endpoint.node("workstream.gateway.events", ProjectFrame.class, Void.class, DEFAULT_TIMEOUT_MS);

  // --- health -----------------------------------------------------------------------------------------------------

  /** This node's database: a real query and the circuit breaker's state ({@code database}, {@code breaker}). */
  public static final Endpoint<String, JsonObject> DB_STATUS =
    Endpoint.node("workstream.db.status", String.class, JsonObject.class, PROBE_TIMEOUT_MS);

  /** Answered by one consumer on every node that runs the unit (reply: that node's id). */
  public static Endpoint<String, String> unit(String unit) {
    return Endpoint.cluster("workstream.unit." + unit, String.class, String.class, PROBE_TIMEOUT_MS);
  }

  private Endpoints() {
  }
}

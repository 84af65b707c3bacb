package io.workstream.db;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.LongAdder;

/**
 * Commits a tenant's concurrent calls of one mutation statement together: one transaction, one round trip and one
 * commit for a group of calls, where PostgreSQL's cost (and a hot project's seq lock) is per commit. Each call keeps
 * its own outcome.
 *
 * <p>A group is one {@code executeBatch}: the calls go as one pipeline, each its own Bind and Execute, with a single
 * Sync, so PostgreSQL runs them in order in one implicit transaction. A tenant has at most {@code lanesPerTenant}
 * groups in flight, and a project is in at most one of them: calls that arrive meanwhile wait and go together in the
 * next group. Alone (nothing in flight) a call goes at once, a group of one, so batching adds no wait at low load.
 * Within a group calls are ordered by project, arrival order kept within a project: groups take projects' seq locks
 * in one order and never share one, so groups do not deadlock with each other.
 *
 * <p>If a group fails because the server refused one of its calls (a business refusal, or a deadlock or
 * serialisation failure), the whole transaction rolled back, and each call runs again alone, in order, for its own
 * outcome. Any other failure is every call's, read as it would be alone ({@link DbErrors#ofMutation}): an error of
 * the server that is not about one call (a timeout, a shutdown) rolled the group back; no answer at all leaves
 * unknown whether the group committed, and each call is told so.
 *
 * <p>Only calls admitted by the {@link DbScheduler} get here, so a tenant's waiting calls are at most its share of
 * the pool. Thread-safe: the state is guarded by this object's lock; statements run outside it.
 */
final class GroupCommit {

  /** The SQLSTATEs after which a group's calls are worth running alone: the server rolled the group back. */
  private static final Set<String> RERUN_ALONE_STATES = Set.of("40001", "40P01");

  private final Pool pool;
  private final String sql;
  private final int lanesPerTenant;
  private final int maxGroup;
  private final Map<String, Tenant> tenants = new HashMap<>();
  private final LongAdder groups = new LongAdder();
  private final LongAdder groupedCalls = new LongAdder();
  private final LongAdder rerunGroups = new LongAdder();

  GroupCommit(Pool pool, String sql, int lanesPerTenant, int maxGroup) {
    this.pool = pool;
    this.sql = sql;
    this.lanesPerTenant = lanesPerTenant;
    this.maxGroup = maxGroup;
  }

  /**
   * Runs the statement with {@code params} in the next group of {@code tenantId}. The row it answered, or the failure
   * as {@link DbErrors#ofMutation} reads it.
   */
  Future<Row> submit(String tenantId, String projectId, Tuple params) {
    Call call = new Call(projectId, params, Promise.promise());
    List<List<Call>> groups;
    synchronized (this) {
      Tenant tenant = tenants.computeIfAbsent(tenantId, t -> new Tenant());
      tenant.waiting.add(call);
      groups = tenant.groupsToStart();
    }
    groups.forEach(group -> run(tenantId, group));
    return call.answer.future();
  }

  /** Groups of two calls or more run as one transaction. */
  long groups() {
    return groups.sum();
  }

  /** The calls in those groups. */
  long groupedCalls() {
    return groupedCalls.sum();
  }

  /** Groups the server rolled back for one of their calls, whose calls then ran alone. */
  long rerunGroups() {
    return rerunGroups.sum();
  }

  private void run(String tenantId, List<Call> group) {
    pool.withConnection(conn -> execute(conn, group))
      .onComplete(done -> {
        if (done.failed()) {
          // No connection: no statement was sent, and the failure is what it is (a retry may succeed).
          group.forEach(call -> call.answer.tryFail(done.cause()));
        }
        List<List<Call>> next;
        synchronized (this) {
          Tenant tenant = tenants.get(tenantId);
          tenant.finished(group);
          next = tenant.groupsToStart();
          if (tenant.idle()) {
            tenants.remove(tenantId);
          }
        }
        next.forEach(following -> run(tenantId, following));
      });
  }

  /** Completes every call of the group; fails only when that is done. */
  private Future<Void> execute(SqlConnection conn, List<Call> group) {
    if (group.size() == 1) {
      return alone(conn, group.get(0));
    }
    groups.increment();
    groupedCalls.add(group.size());
    List<Tuple> batch = new ArrayList<>(group.size());
    group.forEach(call -> batch.add(call.params));
    return conn.preparedQuery(sql).executeBatch(batch).transform(done -> {
      if (done.succeeded()) {
        RowSet<Row> result = done.result();
        for (Call call : group) {
          call.answer.complete(result.iterator().next());
          result = result.next();
        }
        return Future.succeededFuture();
      }
      if (rolledBackByTheServer(done.cause())) {
        rerunGroups.increment();
        return aloneInOrder(conn, group.iterator());
      }
      group.forEach(call -> call.answer.fail(DbErrors.ofMutation(done.cause())));
      return Future.succeededFuture();
    });
  }

  private Future<Void> aloneInOrder(SqlConnection conn, Iterator<Call> calls) {
    return calls.hasNext() ? alone(conn, calls.next()).compose(v -> aloneInOrder(conn, calls))
      : Future.succeededFuture();
  }

  private Future<Void> alone(SqlConnection conn, Call call) {
    return conn.preparedQuery(sql).execute(call.params).transform(done -> {
      if (done.succeeded()) {
        call.answer.complete(done.result().iterator().next());
      } else {
        call.answer.fail(DbErrors.ofMutation(done.cause()));
      }
      return Future.succeededFuture();
    });
  }

  /** The server answered with an error for one call: it rolled the whole group back, and each call can run alone. */
  private static boolean rolledBackByTheServer(Throwable failure) {
    return failure instanceof PgException refused && refused.getSqlState() != null
      && (DbErrors.isRefusal(refused) || RERUN_ALONE_STATES.contains(refused.getSqlState()));
  }

  private record Call(String projectId, Tuple params, Promise<Row> answer) {
  }

  /** A tenant's calls waiting for a group, and the groups it has in flight (and their projects). */
  private final class Tenant {
    final ArrayDeque<Call> waiting = new ArrayDeque<>();
    final Set<String> busyProjects = new HashSet<>();
    int groupsInFlight;

    /** The groups that can start now, taken out of {@code waiting} (and counted in flight). */
    List<List<Call>> groupsToStart() {
      List<List<Call>> groups = List.of();
      for (List<Call> group = nextGroup(); group != null; group = nextGroup()) {
        groups = groups.isEmpty() ? new ArrayList<>(2) : groups;
        groups.add(group);
      }
      return groups;
    }

    /** The next group, or null: no lane is free, or no waiting call's project is free. */
    private List<Call> nextGroup() {
      if (groupsInFlight == lanesPerTenant || waiting.isEmpty()) {
        return null;
      }
      List<Call> group = new ArrayList<>();
      Set<String> taken = new HashSet<>();
      for (Iterator<Call> it = waiting.iterator(); it.hasNext() && group.size() < maxGroup; ) {
        Call call = it.next();
        if (!busyProjects.contains(call.projectId)) {
          it.remove();
          group.add(call);
          taken.add(call.projectId);
        }
      }
      if (group.isEmpty()) {
        return null;
      }
      busyProjects.addAll(taken);
      groupsInFlight++;
      group.sort(Comparator.comparing(Call::projectId));
      return group;
    }

    void finished(List<Call> group) {
      groupsInFlight--;
      group.forEach(call -> busyProjects.remove(call.projectId));
    }

    boolean idle() {
      return groupsInFlight == 0 && waiting.isEmpty();
    }
  }
}

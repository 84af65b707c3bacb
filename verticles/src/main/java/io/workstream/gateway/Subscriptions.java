package io.workstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.workstream.bus.Endpoints;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.FollowProject;
import io.workstream.bus.RequestContext;
import io.workstream.bus.RequestContexts;
import io.workstream.bus.UnfollowProject;
import io.workstream.bus.WorkstreamException;
import io.workstream.bus.proto.Histories;
import io.workstream.bus.proto.History;
import io.workstream.bus.proto.HistoryCursor;
import io.workstream.bus.proto.ReadHistories;
import io.workstream.protocol.Validation;
import io.workstream.protocol.v1.ProjectCursor;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.Subscribe;
import io.workstream.protocol.v1.SubscribeAck;
import io.workstream.protocol.v1.SubscriptionState;
import io.workstream.protocol.v1.Unsubscribe;
import io.workstream.protocol.v1.UnsubscribeAck;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * One connection's project subscriptions: subscribing (with cursors) and unsubscribing, live events handed to the
 * right subscription, where each one stops when the connection lags, and letting go of them all when it closes. The
 * gateway instance follows a project through the broadcast while any of its connections subscribes to it. Writes
 * only to the connection's {@link OutboundQueue}. Confined to the connection's event loop.
 */
final class Subscriptions {

  private static final Logger LOG = LoggerFactory.getLogger(Subscriptions.class);
  static final int PROJECTS_PER_SUBSCRIBE_MAX = 100;

  private final GatewayServices gateway;
  private final GatewayConfig config;
  private final Principal principal;
  private final String connectionId;
  private final OutboundQueue out;
  private final ConnectionBudget budget;
  private final ReadPacer pacer;
  private final Map<String, ProjectSubscription> byProject = new HashMap<>();
  /** Subscriptions catching up that wait for their next page, in the order they asked. */
  private final Set<ProjectSubscription> waitingForPage = new LinkedHashSet<>();
  private boolean pageAsked;

  Subscriptions(GatewayServices gateway, Principal principal, String connectionId, OutboundQueue out,
                ConnectionBudget budget, ReadPacer pacer) {
    this.gateway = gateway;
    this.config = gateway.config();
    this.principal = principal;
    this.connectionId = connectionId;
    this.out = out;
    this.budget = budget;
    this.pacer = pacer;
  }

  /**
   * Registers each project (holding its live events), asks the broadcast where the live streams stand (one request
   * for all the projects) and, for the cursors, reads the first page of history of all of them in one read; then
   * sends the SubscribeAck, and each subscription catches up at the pace of the socket before it goes live. Nothing
   * is left subscribed on failure.
   */
  Future<Void> subscribe(RequestContext ctx, Subscribe request) {
    if (!ctx.canRead()) {
      return Future.failedFuture(new WorkstreamException(ErrorCode.FORBIDDEN,
        "subscribing needs the viewer, member or admin role"));
    }
    Map<String, Long> cursors = cursors(request);
    long fresh = cursors.keySet().stream().filter(p -> !byProject.containsKey(p)).count();
    if (byProject.size() + fresh > config.maxSubscriptions()) {
      throw WorkstreamException.validation("projects", "a connection may subscribe to at most "
        + config.maxSubscriptions() + " projects");
    }
    Map<String, ProjectSubscription> added = new LinkedHashMap<>();
    Set<String> first = new HashSet<>();
    List<HistoryCursor> replays = new ArrayList<>();
    cursors.forEach((projectId, afterSeq) -> {
      ProjectSubscription subscription = new ProjectSubscription(out, budget, this::requestPage, projectId);
      ProjectSubscription replaced = byProject.put(projectId, subscription);
      added.put(projectId, subscription);
      if (replaced != null) {
        replaced.suspend(null);
        gateway.index().replace(principal.tenantId(), projectId, replaced, subscription);
      } else if (gateway.index().add(principal.tenantId(), projectId, subscription)) {
        first.add(projectId);
      }
      if (afterSeq >= 0) {
        replays.add(HistoryCursor.newBuilder().setProjectId(projectId).setAfterSeq(afterSeq).build());
      }
    });
    FollowProject follow = new FollowProject(principal.tenantId(), List.copyOf(added.keySet()), first, gateway.id());
    return gateway.bus().request(Endpoints.BROADCAST_FOLLOW, follow, config.requestTimeoutMs())
      .compose(live -> firstPages(replays).map(pages -> {
        ReadPacer.Shared turn = new ReadPacer.Shared(pages.turnDone());
        Map<String, History> histories = new HashMap<>();
        for (int i = 0; i < replays.size(); i++) {
          histories.put(replays.get(i).getProjectId(), pages.histories().getProjects(i));
        }
        SubscribeAck.Builder ack = SubscribeAck.newBuilder();
        added.keySet().forEach(projectId -> {
          long afterSeq = cursors.get(projectId);
          History history = histories.get(projectId);
          boolean recovered = history != null && history.getRecovered();
          long currentSeq = history != null ? history.getCurrentSeq() : live.currentSeqs().getOrDefault(projectId, 0L);
          ack.addProjects(SubscriptionState.newBuilder()
            .setProjectId(projectId)
            .setCurrentSeq(currentSeq)
            .setRecovered(recovered)
            .setReplayed(recovered ? (int) Math.max(0, currentSeq - afterSeq) : 0));
        });
        // The ack goes out before any recovered event: the subscriptions start only once it is queued.
        out.send(Envelopes.frame(Envelopes.reply(ctx, ServerMessage.newBuilder().setSubscribeAck(ack).build())));
        added.forEach((projectId, subscription) -> {
          History history = histories.get(projectId);
          subscription.start(cursors.get(projectId), history != null && history.getRecovered(),
            history != null ? history.getCurrentSeq() : live.currentSeqs().getOrDefault(projectId, 0L),
            history != null ? history : History.getDefaultInstance(), turn.part());
        });
        turn.seal();
        return (Void) null;
      }))
      .onFailure(failure -> added.forEach((projectId, subscription) -> {
        if (byProject.remove(projectId, subscription)) {
          subscription.suspend(null);
          release(projectId, subscription);
        }
      }));
  }

  /** The first page of history of a Subscribe's cursors, read in its connection's turn; and how to end the turn. */
  private record FirstPages(Histories histories, Runnable turnDone) {
  }

  private Future<FirstPages> firstPages(List<HistoryCursor> replays) {
    if (replays.isEmpty()) {
      return Future.succeededFuture(new FirstPages(Histories.getDefaultInstance(), () -> { }));
    }
    return pacer.turn()
      .compose(v -> readHistories(replays)
        .onFailure(failure -> pacer.done())
        .map(histories -> new FirstPages(histories, pacer::done)));
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

  /**
   * Returns the reply's payload. Every id is checked before any subscription ends, so a bad one changes nothing; at
   * most {@link #PROJECTS_PER_SUBSCRIBE_MAX} per request, like Subscribe.
   */
  ServerMessage unsubscribe(Unsubscribe request) {
    if (request.getProjectIdsCount() > PROJECTS_PER_SUBSCRIBE_MAX) {
      throw WorkstreamException.validation("project_ids", "at most " + PROJECTS_PER_SUBSCRIBE_MAX
        + " projects per Unsubscribe");
    }
    List<String> projectIds = request.getProjectIdsList().stream()
      .map(raw -> Validation.uuid("project_ids", raw)).toList();
    for (String projectId : projectIds) {
      ProjectSubscription removed = byProject.remove(projectId);
      if (removed != null) {
        removed.suspend(null);
        release(projectId, removed);
      }
    }
    return ServerMessage.newBuilder().setUnsubscribeAck(UnsubscribeAck.newBuilder().addAllProjectIds(projectIds))
      .build();
  }

  /**
   * The outbound queue overflowed ({@code firstDropped}: per project, the first seq dropped): every live
   * subscription stops where it got to. Returns the Lagged that tells the client so, or null when none stopped.
   */
  Buffer lagged(Map<String, Long> firstDropped) {
    List<ProjectCursor> cursors = new ArrayList<>();
    byProject.forEach((projectId, subscription) -> {
      if (subscription.state() == ProjectSubscription.State.LIVE || firstDropped.containsKey(projectId)) {
        cursors.add(subscription.suspend(firstDropped.get(projectId)));
      }
    });
    if (cursors.isEmpty()) {
      return null;
    }
    LOG.debug("subscriber lagged", kv("connectionId", connectionId), kv("tenantId", principal.tenantId()));
    return Envelopes.frame(Envelopes.lagged(cursors));
  }

  /** The connection closed: every subscription stops and is given back. */
  void close() {
    waitingForPage.clear();
    byProject.values().forEach(s -> s.suspend(null));
    byProject.forEach(this::release);
    byProject.clear();
  }

  /** This connection no longer subscribes to the project; the instance unfollows it when nobody else does. */
  private void release(String projectId, ProjectSubscription subscription) {
    if (gateway.index().remove(principal.tenantId(), projectId, subscription)) {
      gateway.bus().send(Endpoints.BROADCAST_UNFOLLOW, new UnfollowProject(principal.tenantId(), projectId,
        gateway.id()));
    }
  }

  /**
   * A subscription catching up needs its next page. The connection reads pages in its turn ({@link ReadPacer}), one
   * read for all its subscriptions waiting then, so it has one page of history in hand at a time.
   */
  private void requestPage(ProjectSubscription subscription) {
    waitingForPage.add(subscription);
    if (pageAsked) {
      return;
    }
    pageAsked = true;
    pacer.turn().onComplete(turn -> {
      pageAsked = false;
      List<ProjectSubscription> batch = waitingForPage.stream()
        .filter(s -> s.state() == ProjectSubscription.State.CATCHING_UP).toList();
      waitingForPage.clear();
      if (turn.failed()) {
        return;
      }
      if (batch.isEmpty()) {
        pacer.done();
        return;
      }
      List<HistoryCursor> cursors = batch.stream().map(s -> HistoryCursor.newBuilder().setProjectId(s.projectId())
        .setAfterSeq(s.lastSeq()).build()).toList();
      catchUpPages(cursors).onComplete(read -> {
        if (read.failed()) {
          pacer.done();
          batch.forEach(ProjectSubscription::pageFailed);
          return;
        }
        ReadPacer.Shared pageTurn = new ReadPacer.Shared(pacer::done);
        for (int i = 0; i < batch.size(); i++) {
          batch.get(i).page(read.result().getProjects(i), pageTurn.part());
        }
        pageTurn.seal();
      });
    });
  }

  /** Catch-up pages, outside any request: a chain of its own for this connection's user. */
  private Future<Histories> catchUpPages(List<HistoryCursor> cursors) {
    RequestContext reader = new RequestContext(UUID.randomUUID().toString(), "", principal.tenantId(),
      principal.userId(), principal.roles());
    return RequestContexts.within(gateway.vertx(), reader, () -> readHistories(cursors));
  }

  /** One read of many projects' history: at most a page of events per project, a page of bytes in all. */
  private Future<Histories> readHistories(List<HistoryCursor> cursors) {
    ReadHistories read = ReadHistories.newBuilder().addAllCursors(cursors)
      .setLimitPerProject(config.replayPageSize()).setMaxBytes(config.replayPageBytes()).build();
    return gateway.bus().request(Endpoints.READ_HISTORIES, read, config.requestTimeoutMs());
  }
}

package io.workstream.broadcast;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.workstream.Observability;
import io.workstream.bus.Bus;
import io.workstream.bus.Endpoint;
import io.workstream.bus.Endpoints;
import io.workstream.bus.FollowProject;
import io.workstream.bus.FollowResult;
import io.workstream.bus.Frames;
import io.workstream.bus.NodeState;
import io.workstream.bus.ProjectFrame;
import io.workstream.bus.RequestContext;
import io.workstream.bus.RequestContexts;
import io.workstream.bus.UnfollowProject;
import io.workstream.bus.proto.History;
import io.workstream.bus.proto.ReadCurrentSeqs;
import io.workstream.bus.proto.ReadHistory;
import io.workstream.bus.proto.TenantChange;
import io.workstream.config.Json;
import io.workstream.protocol.v1.ChangeEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static net.logstash.logback.argument.StructuredArguments.kv;

/**
 * Per-tenant broadcast, one per edge node: receives every committed change once per node and hands it to exactly
 * the gateway instances of this node that have subscribers of that (tenant, project) — one node-local message per
 * gateway instance, carrying the frame encoded once, never one message per subscriber. Keeps each project's events
 * in {@code seq} order and fills gaps from the history, so it works the same whichever node made the change.
 * Every {@code broadcast.repairIntervalMs} it also compares the stored seq of each project it follows with the
 * last one it delivered, and delivers what never arrived (a core node that died between commit and publish, a
 * message the cluster lost). (Replaying history to one subscriber is the gateway's job: it is paced by that
 * subscriber's socket.)
 *
 * <p>Consumes {@code workstream.changes} (published, cluster-wide), {@code workstream.broadcast.follow|unfollow}
 * (node). Sends {@link ProjectFrame}s to {@code workstream.gateway.events.<instance>} (node) and reads
 * {@code workstream.history} and {@code workstream.current-seqs} (cluster).
 */
public final class TenantBroadcastVerticle extends VerticleBase {

  private static final Logger LOG = LoggerFactory.getLogger(TenantBroadcastVerticle.class);
  /** Projects asked about in one current-seq read. */
  private static final int REPAIR_BATCH = 500;

  private record ProjectKey(String tenantId, String projectId) {
  }

  private final Map<ProjectKey, ProjectStream> streams = new HashMap<>();
  private final Map<ProjectKey, Future<Void>> starting = new HashMap<>();
  /** Each gateway instance's inbox, resolved once rather than per event. */
  private final Map<String, Endpoint<ProjectFrame, Void>> inboxes = new HashMap<>();
  /** Seqs the database had at the last repair check that this node had not delivered yet. */
  private Map<ProjectKey, Long> suspects = new HashMap<>();
  private Bus bus;
  private long gapFillDelayMs;
  private int gapFillPageSize;
  private Counter gapFilled;
  private Counter repaired;
  private DistributionSummary historyReads;

  @Override
  public Future<?> start() {
    bus = Bus.of(vertx);
    var config = Json.section(config(), "broadcast");
    gapFillDelayMs = config.getLong("gapFillDelayMs", 100L);
    gapFillPageSize = config.getInteger("gapFillPageSize", 100);
    MeterRegistry registry = Observability.registry(config());
    gapFilled = Counter.builder("workstream.broadcast.recovered.events").tag("reason", "gap")
      .description("Change events this node read from the history instead of receiving them").register(registry);
    repaired = Counter.builder("workstream.broadcast.recovered.events").tag("reason", "repair")
      .description("Change events this node read from the history instead of receiving them").register(registry);
    historyReads = DistributionSummary.builder("workstream.broadcast.history.read.events")
      .description("Events per history read of a gap fill or repair (at most broadcast.gapFillPageSize)")
      .register(registry);
    vertx.setPeriodic(config.getLong("repairIntervalMs", 2_000L), id -> repair());
    return Future.join(
      bus.listen(Endpoints.CHANGES, this::onChange).completion(),
      bus.serve(Endpoints.BROADCAST_FOLLOW, (request, follow) -> follow(follow)).completion(),
      bus.listen(Endpoints.BROADCAST_UNFOLLOW, this::unfollow).completion());
  }

  /** Keeps delivering until this node's gateways have drained. */
  @Override
  public Future<?> stop() {
    return NodeState.of(vertx).gatewaysStopped(vertx, NodeState.drainWaitMs(config()));
  }

  private void onChange(TenantChange change) {
    ProjectStream stream = streams.get(new ProjectKey(change.getTenantId(), change.getEvent().getProjectId()));
    if (stream != null) {
      stream.accept(change.getEvent(), event -> emit(stream, event));
      watchForGap(stream);
    }
  }

  /**
   * A gateway instance follows projects (as their first subscriber there), or further subscribers need to know where
   * the live streams stand. The streams this node did not follow yet start with one current-seq read between them;
   * the answer comes once every stream knows its project's current seq, so nothing is missed.
   */
  private Future<FollowResult> follow(FollowProject request) {
    List<Future<Void>> ready = new ArrayList<>();
    List<ProjectKey> fresh = new ArrayList<>();
    Map<String, ProjectStream> following = new LinkedHashMap<>();
    for (String projectId : request.projectIds()) {
      ProjectKey key = new ProjectKey(request.tenantId(), projectId);
      ProjectStream stream = streams.get(key);
      if (stream == null) {
        stream = new ProjectStream(key.tenantId(), key.projectId());
        streams.put(key, stream);
        fresh.add(key);
      } else if (!stream.ready()) {
        ready.add(starting.get(key));
      }
      if (request.follow().contains(projectId)) {
        stream.gateways.add(request.gatewayId());
      }
      following.put(projectId, stream);
    }
    if (!fresh.isEmpty()) {
      Future<Void> started = start(fresh);
      if (!started.isComplete()) {
        fresh.forEach(key -> starting.put(key, started));
      }
      ready.add(started);
    }
    return Future.all(ready).map(v -> {
      Map<String, Long> seqs = new HashMap<>();
      following.forEach((projectId, stream) -> seqs.put(projectId, stream.lastSeq()));
      return new FollowResult(seqs);
    });
  }

  private void unfollow(UnfollowProject request) {
    ProjectKey key = new ProjectKey(request.tenantId(), request.projectId());
    ProjectStream stream = streams.get(key);
    if (stream != null && stream.gateways.remove(request.gatewayId()) && stream.gateways.isEmpty()) {
      streams.remove(key);
      vertx.cancelTimer(stream.gapTimer);
    }
  }

  /**
   * Starts streams this node did not follow yet, with one read of their projects' current seqs; events committed
   * meanwhile wait in the streams (they are registered before the read) rather than being missed.
   */
  private Future<Void> start(List<ProjectKey> keys) {
    List<ProjectStream> fresh = keys.stream().map(streams::get).toList();
    ReadCurrentSeqs read = ReadCurrentSeqs.newBuilder()
      .addAllProjectIds(keys.stream().map(ProjectKey::projectId).toList()).build();
    return bus.request(Endpoints.READ_CURRENT_SEQS, read)
      .<Void>map(current -> {
        for (ProjectStream stream : fresh) {
          stream.start(current.getSeqsOrDefault(stream.projectId, 0L), event -> emit(stream, event));
          watchForGap(stream);
        }
        return null;
      })
      .andThen(ar -> {
        for (int i = 0; i < keys.size(); i++) {
          starting.remove(keys.get(i));
          if (ar.failed()) {
            streams.remove(keys.get(i), fresh.get(i));
          }
        }
      });
  }

  private void emit(ProjectStream stream, ChangeEvent event) {
    if (stream.gateways.isEmpty()) {
      return;
    }
    ProjectFrame frame = new ProjectFrame(stream.tenantId, stream.projectId, event.getSeq(), Frames.changeEvent(event));
    for (String gateway : stream.gateways) {
      bus.send(inboxes.computeIfAbsent(gateway, Endpoints.GATEWAY_EVENTS::instance), frame);
    }
  }

  /** When events wait behind a missing one for longer than the cluster normally takes, read it from the history. */
  private void watchForGap(ProjectStream stream) {
    if (!stream.hasGap() || stream.gapTimer >= 0) {
      return;
    }
    stream.gapTimer = vertx.setTimer(gapFillDelayMs, id -> {
      stream.gapTimer = -1;
      if (!stream.hasGap() || !following(stream)) {
        return;
      }
      long after = stream.lastSeq();
      long upTo = stream.gapEnd();
      fill(stream, after, upTo, gapFilled).onComplete(ar -> {
        if (ar.succeeded() && stream.hasGap() && stream.lastSeq() == after) {
          LOG.warn("events missing from the history; subscribers skip them", kv("tenantId", stream.tenantId),
            kv("projectId", stream.projectId), kv("afterSeq", after), kv("upToSeq", upTo));
          stream.skipGap(e -> emit(stream, e));
        }
        watchForGap(stream);
      });
    });
  }

  /**
   * Compares, per tenant in batches, the stored seq of every followed project with the last one delivered. A
   * project still behind a seq the previous check saw is repaired from the history; a newer difference is
   * remembered for the next check (the events may simply be on their way).
   */
  private void repair() {
    Map<String, List<String>> byTenant = new HashMap<>();
    streams.forEach((key, stream) -> {
      if (stream.ready() && !stream.gateways.isEmpty()) {
        byTenant.computeIfAbsent(key.tenantId(), t -> new ArrayList<>()).add(key.projectId());
      }
    });
    Map<ProjectKey, Long> previous = suspects;
    Map<ProjectKey, Long> next = new HashMap<>();
    suspects = next;
    byTenant.forEach((tenantId, projects) -> {
      for (int from = 0; from < projects.size(); from += REPAIR_BATCH) {
        List<String> batch = projects.subList(from, Math.min(projects.size(), from + REPAIR_BATCH));
        RequestContexts.within(vertx, RequestContext.system(tenantId), () -> bus.request(Endpoints.READ_CURRENT_SEQS,
            ReadCurrentSeqs.newBuilder().addAllProjectIds(batch).build()))
          .onSuccess(current -> current.getSeqsMap().forEach((projectId, seq) -> {
            ProjectKey key = new ProjectKey(tenantId, projectId);
            ProjectStream stream = streams.get(key);
            if (stream == null || !stream.ready() || seq <= stream.lastSeq()) {
              return;
            }
            Long seen = previous.get(key);
            if (seen != null && stream.lastSeq() < seen && !stream.filling) {
              fill(stream, stream.lastSeq(), seen, repaired);
            }
            next.put(key, seq);
          }))
          .onFailure(err -> LOG.debug("repair check failed", kv("tenantId", tenantId), kv("error", err.toString())));
      }
    });
  }

  /**
   * Reads the events after {@code after} up to {@code upTo} from the history and delivers them in order: a page of
   * at most {@code broadcast.gapFillPageSize} events per read, each delivered before the next is read, so a large
   * gap never becomes one large read (nor holds all its events at once).
   */
  private Future<Void> fill(ProjectStream stream, long after, long upTo, Counter counter) {
    stream.filling = true;
    return fillPages(stream, after, upTo, counter)
      .onComplete(ar -> stream.filling = false)
      .onFailure(err -> LOG.warn("could not read missing events from the history", kv("error", err.toString())));
  }

  private Future<Void> fillPages(ProjectStream stream, long after, long upTo, Counter counter) {
    ReadHistory read = ReadHistory.newBuilder().setProjectId(stream.projectId).setAfterSeq(after).setUpToSeq(upTo)
      .setLimit(gapFillPageSize).build();
    return RequestContexts.within(vertx, RequestContext.system(stream.tenantId),
        () -> bus.request(Endpoints.READ_HISTORY, read))
      .compose(history -> {
        long before = stream.lastSeq();
        history.getEventsList().forEach(event -> stream.accept(event, e -> emit(stream, e)));
        historyReads.record(history.getEventsCount());
        counter.increment(Math.max(0, stream.lastSeq() - before));
        boolean more = history.getEventsCount() == gapFillPageSize && stream.lastSeq() > before
          && stream.lastSeq() < upTo && following(stream);
        return more ? fillPages(stream, stream.lastSeq(), upTo, counter) : Future.<Void>succeededFuture();
      });
  }

  private boolean following(ProjectStream stream) {
    return streams.get(new ProjectKey(stream.tenantId, stream.projectId)) == stream;
  }
}

package io.workstream.bus;

import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.EventBus;
import io.workstream.bus.proto.CurrentSeqs;
import io.workstream.bus.proto.Mutation;
import io.workstream.bus.proto.ReadCurrentSeqs;
import io.workstream.bus.proto.DeleteItem;
import io.workstream.bus.proto.Histories;
import io.workstream.bus.proto.History;
import io.workstream.bus.proto.ReadHistories;
import io.workstream.bus.proto.ReadHistory;
import io.workstream.bus.proto.TenantChange;
import io.workstream.protocol.v1.ClientMessage;
import io.workstream.protocol.v1.GetWorkItems;
import io.workstream.protocol.v1.ServerMessage;
import io.workstream.protocol.v1.WorkItemAck;
import io.workstream.protocol.v1.WorkItemList;

/** Registers the message codecs every verticle relies on, once per Vert.x instance, identically on every node. */
public final class Codecs {

  private Codecs() {
  }

  public static void register(Vertx vertx) {
    if (vertx.sharedData().getLocalMap("workstream.codecs").putIfAbsent("registered", Boolean.TRUE) != null) {
      return;
    }
    EventBus eb = vertx.eventBus();
    proto(eb, ClientMessage.class, ClientMessage.parser());
    proto(eb, ServerMessage.class, ServerMessage.parser());
    proto(eb, GetWorkItems.class, GetWorkItems.parser());
    proto(eb, WorkItemAck.class, WorkItemAck.parser());
    proto(eb, WorkItemList.class, WorkItemList.parser());
    proto(eb, DeleteItem.class, DeleteItem.parser());
    proto(eb, ReadHistory.class, ReadHistory.parser());
    proto(eb, History.class, History.parser());
    proto(eb, ReadHistories.class, ReadHistories.parser());
    proto(eb, Histories.class, Histories.parser());
    proto(eb, TenantChange.class, TenantChange.parser());
    proto(eb, Mutation.class, Mutation.parser());
    proto(eb, ReadCurrentSeqs.class, ReadCurrentSeqs.parser());
    proto(eb, CurrentSeqs.class, CurrentSeqs.parser());
    local(eb, ProjectFrame.class);
    local(eb, FollowProject.class);
    local(eb, FollowResult.class);
    local(eb, UnfollowProject.class);
  }

  private static <T extends Message> void proto(EventBus eb, Class<T> type, Parser<T> parser) {
    eb.registerDefaultCodec(type, new ProtoCodec<>(type, parser));
  }

  private static <T> void local(EventBus eb, Class<T> type) {
    eb.registerDefaultCodec(type, new LocalCodec<>(type));
  }
}

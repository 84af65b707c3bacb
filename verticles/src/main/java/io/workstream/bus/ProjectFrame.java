package io.workstream.bus;

import io.vertx.core.buffer.Buffer;

import java.util.function.Function;

/**
 * A change event of one project, already encoded as a {@code ServerMessage} frame. Encoded once per node by the
 * broadcast and shared, by reference, by every connection that receives it.
 */
public final class ProjectFrame {

  private final String tenantId;
  private final String projectId;
  private final long seq;
  private final Buffer frame;
  /** The frame as the gateway writes it to sockets: made by the first gateway instance that delivers it. */
  private volatile Object wire;

  public ProjectFrame(String tenantId, String projectId, long seq, Buffer frame) {
    this.tenantId = tenantId;
    this.projectId = projectId;
    this.seq = seq;
    this.frame = frame;
  }

  public String tenantId() {
    return tenantId;
  }

  public String projectId() {
    return projectId;
  }

  public long seq() {
    return seq;
  }

  public Buffer frame() {
    return frame;
  }

  /**
   * The frame in the form {@code encoder} makes of it, made once for all the connections of the node. Instances on
   * other event loops may make it at the same moment: the encoding is a pure function, so either result will do.
   */
  @SuppressWarnings("unchecked")
  public <T> T wire(Function<Buffer, T> encoder) {
    Object encoded = wire;
    if (encoded == null) {
      encoded = encoder.apply(frame);
      wire = encoded;
    }
    return (T) encoded;
  }
}

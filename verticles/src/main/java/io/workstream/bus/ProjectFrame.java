package io.workstream.bus;

import io.vertx.core.buffer.Buffer;

/**
 * A change event of one project, already encoded as a {@code ServerMessage} frame. Encoded once per node by the
 * broadcast and shared, by reference, by every connection that receives it.
 */
public record ProjectFrame(String tenantId, String projectId, long seq, Buffer frame) {
}

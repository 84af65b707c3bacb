package io.workstream.bus;

/** Where the consumers of an event-bus address live, and so where a message to it may go. */
public enum Scope {
  /**
   * This node only: the address carries the node id, consumers are {@code localConsumer}s and messages are sent
   * local-only. Used between the verticles of one deployment unit, and for probes of this node's own state.
   */
  NODE,
  /** Any node of the cluster that runs the unit consuming it (point to point), or all of them (publish). */
  CLUSTER
}

package io.workstream.bus;

import java.util.HashMap;
import java.util.Map;

/**
 * The error table of the wire protocol. Each code has one event-bus failure code ({@code msg.fail(busCode, ...)}),
 * so a failure crosses any number of hops and nodes and comes out as the same protocol code.
 */
public enum ErrorCode {
  INVALID_TOKEN(4010, false),
  TOKEN_EXPIRED(4011, false),
  FORBIDDEN(4030, false),
  DECODE_ERROR(4000, false),
  INVALID_MESSAGE(4001, false),
  VALIDATION_ERROR(4002, false),
  NOT_FOUND(4040, false),
  CONFLICT(4090, false),
  DELETE_BLOCKED(4091, false),
  RATE_LIMITED(4290, false),
  CONNECTION_LIMIT(4291, false),
  SLOW_CLIENT(4292, false),
  SERVICE_UNAVAILABLE(5030, true),
  TIMEOUT(5040, true),
  DATABASE_ERROR(5001, false),
  INTERNAL_ERROR(5000, false);

  private static final Map<Integer, ErrorCode> BY_BUS_CODE = new HashMap<>();

  static {
    for (ErrorCode code : values()) {
      BY_BUS_CODE.put(code.busCode, code);
    }
  }

  private final int busCode;
  private final boolean infrastructure;

  ErrorCode(int busCode, boolean infrastructure) {
    this.busCode = busCode;
    this.infrastructure = infrastructure;
  }

  /** The failure code used with {@code Message.fail}. */
  public int busCode() {
    return busCode;
  }

  /**
   * Whether the failure says the database path is unhealthy. Business outcomes (validation, not found, conflict…)
   * are not, and must never open the circuit breaker.
   */
  public boolean isInfrastructure() {
    return infrastructure;
  }

  /** The code for a bus failure code, or {@code null} when it is not one of ours. */
  public static ErrorCode fromBusCode(int busCode) {
    return BY_BUS_CODE.get(busCode);
  }
}

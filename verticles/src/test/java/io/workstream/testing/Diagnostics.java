package io.workstream.testing;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a test prints when a request to the service times out: the sockets of that port (did the request reach the
 * server, did the answer reach the client?) and every thread (was an event loop busy?).
 */
public final class Diagnostics {

  private Diagnostics() {
  }

  /** Prints them to stderr (the test's output file) on a timeout; the note to add to the failure's message. */
  public static String onTimeout(Throwable failure, int port) {
    if (!(failure instanceof TimeoutException)) {
      return "";
    }
    StringBuilder out = new StringBuilder("\n--- sockets of port ").append(port).append(" ---\n");
    out.append(sockets(port));
    out.append("--- threads ---\n");
    for (ThreadInfo thread : ManagementFactory.getThreadMXBean().dumpAllThreads(false, false)) {
      out.append('"').append(thread.getThreadName()).append("\" ").append(thread.getThreadState()).append('\n');
      for (StackTraceElement frame : thread.getStackTrace()) {
        out.append("    at ").append(frame).append('\n');
      }
    }
    System.err.println(out);
    return " (timed out: its sockets and every thread are printed in the test's output)";
  }

  private static String sockets(int port) {
    try {
      Process ss = new ProcessBuilder("ss", "-tanoi", "( sport = :" + port + " or dport = :" + port + " )")
        .redirectErrorStream(true).start();
      String text = new String(ss.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      ss.waitFor(5, TimeUnit.SECONDS);
      return text;
    } catch (IOException e) {
      return "ss failed: " + e + "\n";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted\n";
    }
  }
}

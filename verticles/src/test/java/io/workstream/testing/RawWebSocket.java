package io.workstream.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A WebSocket client written against the socket itself, for what a well-behaved library never does: never answer
 * a ping, reset the TCP connection without a close handshake, or send frames of any shape.
 */
public final class RawWebSocket implements AutoCloseable {

  private final Socket socket;
  private final DataInputStream in;
  private final OutputStream out;
  public final int status;
  /** The upgrade response's headers, as sent. */
  public final String responseHeaders;

  private RawWebSocket(Socket socket, String responseHeaders) throws IOException {
    this.socket = socket;
    this.in = new DataInputStream(socket.getInputStream());
    this.out = socket.getOutputStream();
    this.responseHeaders = responseHeaders;
    this.status = Integer.parseInt(responseHeaders.lines().findFirst().orElse("0 0").split(" ")[1]);
  }

  /** Opens a socket and performs the upgrade; {@link #status} is 101 when it was accepted. */
  public static RawWebSocket connect(int port, String token) {
    return connect(port, token, "");
  }

  /** With extra request header lines (each ending in CRLF). */
  public static RawWebSocket connect(int port, String token, String extraHeaders) {
    try {
      Socket socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(30_000);
      byte[] nonce = new byte[16];
      new SecureRandom().nextBytes(nonce);
      String request = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\n"
        + "Connection: Upgrade\r\nSec-WebSocket-Key: " + Base64.getEncoder().encodeToString(nonce) + "\r\n"
        + "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer " + token + "\r\n" + extraHeaders + "\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
      return new RawWebSocket(socket, readHeaders(socket.getInputStream()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Resets the TCP connection (RST): no close frame, no FIN handshake. */
  public void resetAbruptly() {
    try {
      socket.setSoLinger(true, 0);
      socket.close();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Sends one masked, final frame. */
  public void sendFrame(int opcode, byte[] payload) {
    sendFrame(true, opcode, payload);
  }

  /** Sends one masked frame; a message can be split into fragments (opcode 0 for the continuations). */
  public void sendFrame(boolean fin, int opcode, byte[] payload) {
    sendFrame(fin, false, opcode, payload);
  }

  /** {@code compressed} sets RSV1: the payload claims to be permessage-deflate data. */
  public void sendFrame(boolean fin, boolean compressed, int opcode, byte[] payload) {
    try {
      ByteArrayOutputStream frame = new ByteArrayOutputStream();
      frame.write((fin ? 0x80 : 0) | (compressed ? 0x40 : 0) | opcode);
      if (payload.length < 126) {
        frame.write(0x80 | payload.length);
      } else if (payload.length < 65_536) {
        frame.write(0x80 | 126);
        frame.write(payload.length >>> 8);
        frame.write(payload.length & 0xff);
      } else {
        frame.write(0x80 | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
          frame.write((int) ((long) payload.length >>> shift) & 0xff);
        }
      }
      byte[] mask = new byte[4];
      new SecureRandom().nextBytes(mask);
      frame.write(mask);
      for (int i = 0; i < payload.length; i++) {
        frame.write(payload[i] ^ mask[i % 4]);
      }
      out.write(frame.toByteArray());
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Reads frames (and ignores them: pings stay unanswered) until the server's close frame; returns its code, or -1
   * when the connection ended without one.
   */
  public int awaitCloseCode() {
    try {
      while (true) {
        int first = in.read();
        if (first < 0) {
          return -1;
        }
        int second = in.readUnsignedByte();
        long length = second & 0x7f;
        if (length == 126) {
          length = in.readUnsignedShort();
        } else if (length == 127) {
          length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        if ((first & 0x0f) == 0x8) {
          return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
        }
      }
    } catch (SocketTimeoutException e) {
      throw new AssertionError("no close frame within the socket timeout", e);
    } catch (IOException e) {
      return -1;
    }
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException ignored) {
      // already gone
    }
  }

  private static String readHeaders(InputStream in) throws IOException {
    StringBuilder headers = new StringBuilder();
    int b;
    while ((b = in.read()) >= 0) {
      headers.append((char) b);
      if (headers.length() >= 4 && headers.substring(headers.length() - 4).equals("\r\n\r\n")) {
        break;
      }
    }
    return headers.toString();
  }
}

package io.workstream.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.workstream.bus.ErrorCode;
import io.workstream.bus.RequestContext;
import io.workstream.bus.ReservedTenants;
import io.workstream.bus.WorkstreamException;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Verifies a connection's JWT (HS256 or RS256, with clock leeway) and its claims: {@code sub}, {@code tenant_id}
 * (1..128 characters) and {@code exp} are required; {@code roles} is an array of strings, of which the known roles
 * are kept. Fails with INVALID_TOKEN or TOKEN_EXPIRED.
 */
final class TokenVerifier {

  static final int TENANT_ID_MAX = 128;
  static final int USER_ID_MAX = 256;
  private static final Set<String> KNOWN_ROLES = Set.of(RequestContext.VIEWER, RequestContext.MEMBER,
    RequestContext.ADMIN);

  private final JWTAuth auth;
  private final int leewaySeconds;

  private TokenVerifier(JWTAuth auth, int leewaySeconds) {
    this.auth = auth;
    this.leewaySeconds = leewaySeconds;
  }

  /** Builds the verifier; an RS256 public key file is read asynchronously. */
  static Future<TokenVerifier> create(Vertx vertx, GatewayConfig.Auth config) {
    Future<PubSecKeyOptions> key = switch (config.algorithm()) {
      case "HS256" -> Future.succeededFuture(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(config.secret()));
      case "RS256" -> vertx.fileSystem().readFile(config.publicKeyFile())
        .map(pem -> new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(pem));
      default -> Future.failedFuture(new IllegalArgumentException(
        "auth.algorithm must be HS256 or RS256, not " + config.algorithm()));
    };
    return key.map(keyOptions -> {
      JWTOptions jwt = new JWTOptions().setLeeway(config.leewaySeconds());
      if (!config.issuer().isEmpty()) {
        jwt.setIssuer(config.issuer());
      }
      if (!config.audience().isEmpty()) {
        jwt.setAudience(List.of(config.audience()));
      }
      JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(keyOptions).setJWTOptions(jwt));
      return new TokenVerifier(auth, config.leewaySeconds());
    });
  }

  Future<Principal> verify(String token) {
    if (token == null || token.isBlank()) {
      return Future.failedFuture(invalid("a bearer token is required"));
    }
    return auth.authenticate(new TokenCredentials(token))
      .recover(err -> Future.failedFuture(String.valueOf(err.getMessage()).contains("expired") && expPassed(token)
        ? new WorkstreamException(ErrorCode.TOKEN_EXPIRED, "the token has expired")
        : invalid("the token is not valid")))
      .map(user -> principal(user.attributes().getJsonObject("accessToken", new JsonObject())));
  }

  private Principal principal(JsonObject claims) {
    String userId = stringClaim(claims, "sub", USER_ID_MAX);
    String tenantId = stringClaim(claims, "tenant_id", TENANT_ID_MAX);
    if (ReservedTenants.isReserved(tenantId)) {
      throw invalid("tenant ids starting with " + ReservedTenants.PREFIX + " are reserved");
    }
    if (!(claims.getValue("exp") instanceof Number exp)) {
      throw invalid("the token has no exp claim");
    }
    Set<String> roles = new HashSet<>();
    Object rawRoles = claims.getValue("roles");
    if (rawRoles != null) {
      if (!(rawRoles instanceof JsonArray array)) {
        throw invalid("the roles claim must be an array of strings");
      }
      for (Object role : array) {
        if (!(role instanceof String name)) {
          throw invalid("the roles claim must be an array of strings");
        }
        if (KNOWN_ROLES.contains(name)) {
          roles.add(name);
        }
      }
    }
    return new Principal(tenantId, userId, Set.copyOf(roles), exp.longValue() * 1000);
  }

  private static String stringClaim(JsonObject claims, String name, int max) {
    if (!(claims.getValue(name) instanceof String value) || value.isEmpty() || value.length() > max
      || value.chars().anyMatch(Character::isISOControl)) {
      throw invalid("the token's " + name + " claim must be a string of 1.." + max + " printable characters");
    }
    return value;
  }

  /**
   * Whether the token's exp passed (beyond the leeway). Asked only after the provider refused the token as expired,
   * which it says only for a correctly signed token; a token refused for iat or nbf in the future stays INVALID_TOKEN.
   */
  private boolean expPassed(String token) {
    String[] parts = token.split("\\.");
    try {
      JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
      return claims.getValue("exp") instanceof Number exp
        && exp.longValue() + leewaySeconds < System.currentTimeMillis() / 1000;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static WorkstreamException invalid(String message) {
    return new WorkstreamException(ErrorCode.INVALID_TOKEN, message);
  }
}

import type { NextFunction, Request, RequestHandler, Response } from "express";
import {
  createGatehouseAuth,
  type GatehouseAuth,
  type GatehouseAuthOptions,
  type GatehouseIdentity,
} from "./auth.js";
import { bindRequest, guard, problem } from "./guard.js";

declare global {
  namespace Express {
    interface Request {
      /** The Gatehouse caller (access token or session cookie); null when the request carried neither. */
      gatehouse?: GatehouseIdentity | null;
    }
  }
}

/**
 * `req.gatehouse` from `authorization: Bearer <access token>` or the Gatehouse session cookie; 401
 * `invalid_token` when what was sent does not verify.   app.use(gatehouseExpress({ gatehouseUrl }))
 */
export function gatehouseExpress(options: GatehouseAuthOptions | GatehouseAuth): RequestHandler {
  const auth = "authenticate" in options ? options : createGatehouseAuth(options);
  return (req: Request, res: Response, next: NextFunction) => {
    req.gatehouse = null;
    auth
      .authenticate({ authorization: req.headers.authorization, cookie: req.headers.cookie })
      .then((authentication) => {
        if (authentication.kind === "invalid") {
          const detail = "The access token or session is not valid; sign in again.";
          res
            .status(401)
            .type("application/problem+json")
            .json(problem(401, authentication.reason, detail));
          return;
        }
        if (authentication.kind === "ok") {
          req.gatehouse = authentication.identity;
          bindRequest(req, { auth, authentication });
        }
        next();
      })
      .catch(next);
  };
}

/** 401 without a Gatehouse caller, 403 `forbidden` without `permission` in their account. */
export function requirePermission(permission: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    guard(req, permission)
      .then((answer) => {
        if (answer.status === 200) return next();
        res.status(answer.status).type("application/problem+json").json(answer.body);
      })
      .catch(next);
  };
}

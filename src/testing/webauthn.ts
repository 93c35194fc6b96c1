import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { type CBORType, encodeCBOR } from "@levischuck/tiny-cbor";

/**
 * A small software authenticator for tests: real P-256 keys, attestation format "none", CBOR
 * attestation objects and ES256-signed assertions, in the JSON shape @simplewebauthn/browser sends.
 * Credentials are discoverable (resident): an assertion without allowCredentials picks one for the RP.
 */
type StoredCredential = {
  id: Buffer;
  rpId: string;
  userHandle: string;
  privateKey: KeyObject;
  counter: number;
};

type CreationOptions = {
  challenge: string;
  rp: { id?: string; name: string };
  user: { id: string; name: string };
};
type RequestOptions = {
  challenge: string;
  rpId?: string;
  allowCredentials?: Array<{ id: string }>;
};

const b64url = (data: Uint8Array | string) => Buffer.from(data).toString("base64url");
const sha256 = (data: Uint8Array | string) => createHash("sha256").update(data).digest();

export function createSoftwareAuthenticator(origin: string) {
  const credentials: StoredCredential[] = [];
  const defaultRpId = new URL(origin).hostname;

  const counterBytes = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(n);
    return b;
  };

  return {
    credentials,

    /** navigator.credentials.create: a RegistrationResponseJSON. */
    create(options: CreationOptions, opts: { origin?: string; userVerified?: boolean } = {}) {
      const rpId = options.rp.id ?? defaultRpId;
      const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
      const jwk = publicKey.export({ format: "jwk" });
      const cose = new Map<number, CBORType>([
        [1, 2], // kty: EC2
        [3, -7], // alg: ES256
        [-1, 1], // crv: P-256
        [-2, Buffer.from(jwk.x as string, "base64url")],
        [-3, Buffer.from(jwk.y as string, "base64url")],
      ]);
      const id = randomBytes(32);
      const credential: StoredCredential = { id, rpId, userHandle: options.user.id, privateKey, counter: 0 };
      credentials.push(credential);
      const idLength = Buffer.alloc(2);
      idLength.writeUInt16BE(id.length);
      const flags = 0x01 | (opts.userVerified === false ? 0 : 0x04) | 0x40; // UP, UV, AT
      const authData = Buffer.concat([
        sha256(rpId),
        Buffer.from([flags]),
        counterBytes(0),
        Buffer.alloc(16), // aaguid: none
        idLength,
        id,
        Buffer.from(encodeCBOR(cose)),
      ]);
      const attestationObject = encodeCBOR(
        new Map<string, CBORType>([
          ["fmt", "none"],
          ["attStmt", new Map<string, CBORType>()],
          ["authData", new Uint8Array(authData)],
        ]),
      );
      const clientDataJSON = JSON.stringify({
        type: "webauthn.create",
        challenge: options.challenge,
        origin: opts.origin ?? origin,
        crossOrigin: false,
      });
      return {
        id: b64url(id),
        rawId: b64url(id),
        type: "public-key" as const,
        response: {
          clientDataJSON: b64url(clientDataJSON),
          attestationObject: b64url(attestationObject),
          transports: ["internal"],
        },
        clientExtensionResults: {},
        authenticatorAttachment: "platform",
      };
    },

    /**
     * navigator.credentials.get: an AuthenticationResponseJSON signed by the chosen credential (the
     * first allowed one, else the first for the RP). `tamper` breaks the signature; `counter` forces
     * the signature counter.
     */
    get(
      options: RequestOptions,
      opts: {
        credentialId?: string;
        origin?: string;
        tamper?: boolean;
        counter?: number;
        userVerified?: boolean;
      } = {},
    ) {
      const rpId = options.rpId ?? defaultRpId;
      const allowed = options.allowCredentials?.map((c) => c.id);
      const credential = credentials.find(
        (c) =>
          c.rpId === rpId &&
          (opts.credentialId
            ? b64url(c.id) === opts.credentialId
            : !allowed?.length || allowed.includes(b64url(c.id))),
      );
      if (!credential) throw new Error("no credential for this request");
      credential.counter = opts.counter ?? credential.counter + 1;
      const authData = Buffer.concat([
        sha256(rpId),
        Buffer.from([0x01 | (opts.userVerified === false ? 0 : 0x04)]),
        counterBytes(credential.counter),
      ]);
      const clientDataJSON = JSON.stringify({
        type: "webauthn.get",
        challenge: options.challenge,
        origin: opts.origin ?? origin,
        crossOrigin: false,
      });
      const signature = sign(
        "sha256",
        Buffer.concat([authData, sha256(clientDataJSON)]),
        credential.privateKey,
      );
      if (opts.tamper) signature.writeUInt8((signature.at(-1) as number) ^ 0x01, signature.length - 1);
      return {
        id: b64url(credential.id),
        rawId: b64url(credential.id),
        type: "public-key" as const,
        response: {
          clientDataJSON: b64url(clientDataJSON),
          authenticatorData: b64url(authData),
          signature: b64url(signature),
          userHandle: credential.userHandle,
        },
        clientExtensionResults: {},
        authenticatorAttachment: "platform",
      };
    },
  };
}

export type SoftwareAuthenticator = ReturnType<typeof createSoftwareAuthenticator>;

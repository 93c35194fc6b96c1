/**
 * Generated from Gatehouse's OpenAPI document by `npm run sdk:generate`: do not edit by hand.
 */

export interface paths {
    "/api/v1/auth/signup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Create a user and a new account with that user as Root */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * Format: email
                         * @description Email address
                         */
                        email: string;
                        password: string;
                        name: string;
                        account_name: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user: components["schemas"]["Me"];
                            account_id: string;
                            verification_sent: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/verify-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm an email address with the token from the mail */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            verified: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/verify-email/resend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send the verification mail again */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            accepted: boolean;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Log in with email and password; sets the session cookie */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        email: string;
                        password: string;
                        account_id?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user: components["schemas"]["Me"];
                            account_id: string | null;
                            csrf_token: string;
                            session: {
                                id: string;
                                /** Format: date-time */
                                expires_at: string;
                            };
                            password_change_required: boolean;
                            /** Format: date-time */
                            mfa_enrollment_due_at: string | null;
                            /**
                             * Format: date-time
                             * @description When the active account is deleted (a scheduled closure); null when none is
                             */
                            account_closure_delete_at: string | null;
                        } | {
                            /** @enum {boolean} */
                            mfa_required: true;
                            mfa_token: string;
                            methods: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Complete a log-in that needs a second factor */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        mfa_token: string;
                        method: "totp" | "email" | "sms" | "recovery_code";
                        code: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user: components["schemas"]["Me"];
                            account_id: string | null;
                            csrf_token: string;
                            session: {
                                id: string;
                                /** Format: date-time */
                                expires_at: string;
                            };
                            password_change_required: boolean;
                            /** Format: date-time */
                            mfa_enrollment_due_at: string | null;
                            /**
                             * Format: date-time
                             * @description When the active account is deleted (a scheduled closure); null when none is
                             */
                            account_closure_delete_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/login/mfa/send": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Email or text a sign-in code during a log-in that needs a second factor */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        mfa_token: string;
                        method: "email" | "sms";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            sent: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/reauth": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Authenticate again (password or second factor) to unlock sensitive actions for 10 minutes */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password?: string;
                        method?: "totp" | "email" | "sms" | "recovery_code";
                        code?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            reauthenticated_until: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/reauth/send": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a code (to your confirmed email or SMS factor) for POST /auth/reauth */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        method: "email" | "sms";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            sent: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End the current session */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/reactivate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Turn a deactivated login back on with the token from the mail */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            reactivated: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/password/forgot": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mail a password reset link (same answer whether or not the email exists) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        email: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            accepted: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/password/reset/check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Whether a reset link still works (unused, unexpired), without using it */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            valid: true;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/password/reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Set a new password with the token from the mail; ends every session of the user */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            reset: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/password-policy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The password policy new users sign up under */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            min_length: number;
                            max_length: number;
                            require_upper: boolean;
                            require_lower: boolean;
                            require_digit: boolean;
                            require_special: boolean;
                            history: number;
                            expiry_days: number | null;
                            disallow_personal_info: boolean;
                            disallow_common: boolean;
                            /** @description The lowest zxcvbn strength score (0–4) a password must reach; 0 = not checked */
                            min_strength: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/session": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The current session, user and CSRF token */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user: components["schemas"]["Me"];
                            account_id: string | null;
                            csrf_token: string;
                            session: {
                                id: string;
                                /** Format: date-time */
                                expires_at: string;
                            };
                            password_change_required: boolean;
                            /** Format: date-time */
                            mfa_enrollment_due_at: string | null;
                            /**
                             * Format: date-time
                             * @description When the active account is deleted (a scheduled closure); null when none is
                             */
                            account_closure_delete_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/session/status": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether the caller is signed in: 200 {authenticated: false}, or {authenticated: true} with the session state of GET /session */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            authenticated: false;
                        } | {
                            /** @enum {boolean} */
                            authenticated: true;
                            user: components["schemas"]["Me"];
                            account_id: string | null;
                            csrf_token: string;
                            session: {
                                id: string;
                                /** Format: date-time */
                                expires_at: string;
                            };
                            password_change_required: boolean;
                            /** Format: date-time */
                            mfa_enrollment_due_at: string | null;
                            /**
                             * Format: date-time
                             * @description When the active account is deleted (a scheduled closure); null when none is
                             */
                            account_closure_delete_at: string | null;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your profile */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Me"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete your own login for good (fresh authentication and your password). 409 sole_root lists the accounts you are the only Root of */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change your profile (email is read-only here) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        username?: string | null;
                        first_name?: string;
                        last_name?: string;
                        mobile?: string | null;
                        /**
                         * Format: timezone
                         * @description IANA time zone
                         */
                        timezone?: string;
                        locale?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Me"];
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/me/password-policy": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The strictest password policy of your accounts */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            min_length: number;
                            max_length: number;
                            require_upper: boolean;
                            require_lower: boolean;
                            require_digit: boolean;
                            require_special: boolean;
                            history: number;
                            expiry_days: number | null;
                            disallow_personal_info: boolean;
                            disallow_common: boolean;
                            /** @description The lowest zxcvbn strength score (0–4) a password must reach; 0 = not checked */
                            min_strength: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/password": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Change your password; ends your other sessions */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        current_password: string;
                        new_password: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            changed: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/deactivate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Deactivate your own login (reversible: log in again and confirm by email) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/preferences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your preferences */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            theme: "light" | "dark" | "system";
                            animations: boolean;
                            default_date_range: "today" | "last_7_days" | "last_30_days" | "last_90_days" | "last_12_months" | "year_to_date";
                            default_chart_metric: "active_users" | "sessions" | "logins" | "api_calls" | "errors";
                            default_list_filters: {
                                status: "all" | "active" | "suspended" | "deactivated" | "pending";
                                page_size: 10 | 25 | 50 | 100;
                            };
                            default_audit_filter: {
                                category: "all" | "members" | "invitations" | "roles_teams" | "security" | "api_keys_webhooks" | "billing" | "account_data";
                                range: "all_time" | "today" | "last_7_days" | "last_30_days" | "last_90_days";
                            };
                            default_invoices_filter: {
                                status: "all" | "open" | "paid" | "failed" | "void";
                            };
                        };
                    };
                };
            };
        };
        /** Replace your preferences (omitted fields take their defaults) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        theme?: "light" | "dark" | "system";
                        animations?: boolean;
                        default_date_range?: "today" | "last_7_days" | "last_30_days" | "last_90_days" | "last_12_months" | "year_to_date";
                        default_chart_metric?: "active_users" | "sessions" | "logins" | "api_calls" | "errors";
                        default_list_filters?: {
                            status?: "all" | "active" | "suspended" | "deactivated" | "pending";
                            page_size?: 10 | 25 | 50 | 100;
                        };
                        default_audit_filter?: {
                            category?: "all" | "members" | "invitations" | "roles_teams" | "security" | "api_keys_webhooks" | "billing" | "account_data";
                            range?: "all_time" | "today" | "last_7_days" | "last_30_days" | "last_90_days";
                        };
                        default_invoices_filter?: {
                            status?: "all" | "open" | "paid" | "failed" | "void";
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            theme: "light" | "dark" | "system";
                            animations: boolean;
                            default_date_range: "today" | "last_7_days" | "last_30_days" | "last_90_days" | "last_12_months" | "year_to_date";
                            default_chart_metric: "active_users" | "sessions" | "logins" | "api_calls" | "errors";
                            default_list_filters: {
                                status: "all" | "active" | "suspended" | "deactivated" | "pending";
                                page_size: 10 | 25 | 50 | 100;
                            };
                            default_audit_filter: {
                                category: "all" | "members" | "invitations" | "roles_teams" | "security" | "api_keys_webhooks" | "billing" | "account_data";
                                range: "all_time" | "today" | "last_7_days" | "last_30_days" | "last_90_days";
                            };
                            default_invoices_filter: {
                                status: "all" | "open" | "paid" | "failed" | "void";
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your active sessions */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                current: boolean;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_seen_at: string;
                                /** Format: date-time */
                                expires_at: string;
                                ip: string | null;
                                user_agent: string | null;
                                device: {
                                    browser: string;
                                    os: string;
                                    type: string;
                                };
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/sessions/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** End one of your sessions */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/sessions/revoke-others": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End every session but this one */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            revoked: number;
                        };
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Change your login email: mails a confirmation link to the new address and a notice to the current one (needs a fresh authentication) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * Format: email
                         * @description Email address
                         */
                        new_email: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            accepted: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/email-change/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm a change of login email with the token from the mail; ends the user's other sessions */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            changed: boolean;
                            email: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/security": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's password, session, MFA and IP allowlist policies */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            password_policy: {
                                min_length: number;
                                require_upper: boolean;
                                require_lower: boolean;
                                require_digit: boolean;
                                require_special: boolean;
                                history: number;
                                expiry_days: number | null;
                                /** @description The lowest zxcvbn strength score (0–4) a new password must reach; 0 = not checked */
                                min_strength: number;
                            };
                            session: {
                                idle_minutes: number;
                                absolute_hours: number;
                            };
                            mfa: {
                                required_role_ids: string[];
                                allowed_methods: ("totp" | "email" | "sms" | "passkey")[];
                                grace_days: number;
                            };
                            ip_allowlist: string[];
                            /** @description The caller's IP address as the allowlist sees it (to offer adding it) */
                            current_ip: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change the account's password, session, MFA and IP allowlist policies */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password_policy?: {
                            min_length?: number;
                            require_upper?: boolean;
                            require_lower?: boolean;
                            require_digit?: boolean;
                            require_special?: boolean;
                            history?: number;
                            expiry_days?: number | null;
                            /** @description The lowest zxcvbn strength score (0–4) a new password must reach; 0 = not checked */
                            min_strength?: number;
                        };
                        session?: {
                            idle_minutes?: number;
                            absolute_hours?: number;
                        };
                        mfa?: {
                            required_role_ids?: string[];
                            allowed_methods?: ("totp" | "email" | "sms" | "passkey")[];
                            grace_days?: number;
                        };
                        /** @description IPv4/IPv6 addresses and CIDR ranges allowed to log in and use the account; empty = any */
                        ip_allowlist?: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            password_policy: {
                                min_length: number;
                                require_upper: boolean;
                                require_lower: boolean;
                                require_digit: boolean;
                                require_special: boolean;
                                history: number;
                                expiry_days: number | null;
                                /** @description The lowest zxcvbn strength score (0–4) a new password must reach; 0 = not checked */
                                min_strength: number;
                            };
                            session: {
                                idle_minutes: number;
                                absolute_hours: number;
                            };
                            mfa: {
                                required_role_ids: string[];
                                allowed_methods: ("totp" | "email" | "sms" | "passkey")[];
                                grace_days: number;
                            };
                            ip_allowlist: string[];
                            /** @description The caller's IP address as the allowlist sees it (to offer adding it) */
                            current_ip: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your accounts */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                name: string;
                                slug: string;
                                role: {
                                    id: string;
                                    key: string;
                                    name: string;
                                };
                                current: boolean;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create another account; you become its Root */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            slug: string;
                            /** @description The uploaded logo, within 512×512 (PUT …/logo); read-only */
                            logo_url: string | null;
                            /** @description The same, within 128×128 */
                            logo_thumb_url: string | null;
                            legal_name: string | null;
                            website: string | null;
                            industry: string | null;
                            industry_other: string | null;
                            phone: string | null;
                            address: {
                                line1: string;
                                line2: string | null;
                                city: string;
                                region: string | null;
                                postal_code: string | null;
                                country: string;
                            } | null;
                            tax_id: string | null;
                            billing_email: string | null;
                            certifications: string[];
                            contact_email: string | null;
                            default_role_id: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /**
                             * Format: date-time
                             * @description When the account is deleted (a scheduled closure), else null
                             */
                            closure_delete_at?: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Account profile */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            slug: string;
                            /** @description The uploaded logo, within 512×512 (PUT …/logo); read-only */
                            logo_url: string | null;
                            /** @description The same, within 128×128 */
                            logo_thumb_url: string | null;
                            legal_name: string | null;
                            website: string | null;
                            industry: string | null;
                            industry_other: string | null;
                            phone: string | null;
                            address: {
                                line1: string;
                                line2: string | null;
                                city: string;
                                region: string | null;
                                postal_code: string | null;
                                country: string;
                            } | null;
                            tax_id: string | null;
                            billing_email: string | null;
                            certifications: string[];
                            contact_email: string | null;
                            default_role_id: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /**
                             * Format: date-time
                             * @description When the account is deleted (a scheduled closure), else null
                             */
                            closure_delete_at?: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change the account profile */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        legal_name?: string | null;
                        website?: string | null;
                        industry?: ("software" | "fintech" | "healthcare" | "education" | "ecommerce" | "media" | "manufacturing" | "government" | "nonprofit" | "professional_services" | "other") | null;
                        /** @description Only with industry "other": what it is */
                        industry_other?: string | null;
                        phone?: string | null;
                        address?: {
                            line1: string;
                            line2?: string | null;
                            city: string;
                            region?: string | null;
                            postal_code?: string | null;
                            /** Format: country */
                            country: string;
                        } | null;
                        tax_id?: string | null;
                        billing_email?: string | null;
                        certifications?: ("soc2" | "iso27001" | "hipaa" | "gdpr" | "pci_dss" | "other")[];
                        contact_email?: string | null;
                        default_role_id?: string | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            slug: string;
                            /** @description The uploaded logo, within 512×512 (PUT …/logo); read-only */
                            logo_url: string | null;
                            /** @description The same, within 128×128 */
                            logo_thumb_url: string | null;
                            legal_name: string | null;
                            website: string | null;
                            industry: string | null;
                            industry_other: string | null;
                            phone: string | null;
                            address: {
                                line1: string;
                                line2: string | null;
                                city: string;
                                region: string | null;
                                postal_code: string | null;
                                country: string;
                            } | null;
                            tax_id: string | null;
                            billing_email: string | null;
                            certifications: string[];
                            contact_email: string | null;
                            default_role_id: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /**
                             * Format: date-time
                             * @description When the account is deleted (a scheduled closure), else null
                             */
                            closure_delete_at?: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/switch": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Make this the session's active account (under its session limits) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user: components["schemas"]["Me"];
                            account_id: string | null;
                            csrf_token: string;
                            session: {
                                id: string;
                                /** Format: date-time */
                                expires_at: string;
                            };
                            password_change_required: boolean;
                            /** Format: date-time */
                            mfa_enrollment_due_at: string | null;
                            /**
                             * Format: date-time
                             * @description When the active account is deleted (a scheduled closure); null when none is
                             */
                            account_closure_delete_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/seats": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Seat usage: active + suspended + deactivated members + open invitations */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            plan: "free" | "pro" | "team" | "enterprise";
                            limit: number | null;
                            used: number;
                            active: number;
                            suspended: number;
                            deactivated: number;
                            pending: number;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/permissions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The permission catalog (with an account's registered keys when account_id is given) */
        get: {
            parameters: {
                query?: {
                    account_id?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                key: string;
                                description: string;
                                group: string;
                                custom: boolean;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/permissions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Register a host-product permission key for this account */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        key: string;
                        description: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            key: string;
                            description: string;
                            group: string;
                            custom: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/roles": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Built-in and custom roles */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                key: string;
                                name: string;
                                description: string;
                                permissions: string[];
                                builtin: boolean;
                                member_count: number;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        /** Create a custom role, or add one from a template */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        description?: string;
                        permissions?: string[];
                        template?: "manager" | "agent" | "viewer" | "user";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            key: string;
                            name: string;
                            description: string;
                            permissions: string[];
                            builtin: boolean;
                            member_count: number;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/role-templates": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Role templates an admin can add with one click */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                key: string;
                                name: string;
                                description: string;
                                permissions: string[];
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/roles/{role_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Delete a custom role (move_to: where its members and team grants go) */
        delete: {
            parameters: {
                query?: {
                    move_to?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                    role_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Edit a custom role */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    role_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        description?: string;
                        permissions?: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            key: string;
                            name: string;
                            description: string;
                            permissions: string[];
                            builtin: boolean;
                            member_count: number;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Members and open invitations, with filters, sorting and counts */
        get: {
            parameters: {
                query?: {
                    status?: "active" | "suspended" | "deactivated" | "pending";
                    role_id?: string;
                    team_id?: string;
                    q?: string;
                    inactive_days?: number;
                    /** @description Members with (or without) a second factor; pending invitations are left out */
                    mfa?: "enabled" | "disabled";
                    sort?: "name" | "email" | "last_login_at" | "joined_at";
                    order?: "asc" | "desc";
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                user_id: string | null;
                                email: string;
                                first_name: string;
                                last_name: string;
                                /** @description active | suspended | deactivated (turned their own login off) | pending */
                                status: string;
                                role: {
                                    id: string;
                                    key: string;
                                    name: string;
                                };
                                team_ids: string[];
                                /** Format: date-time */
                                last_login_at: string | null;
                                /** Format: date-time */
                                joined_at: string | null;
                                /** @description A confirmed second factor on their login (false for pending invitations) */
                                mfa_enabled: boolean;
                                invitation_id?: string;
                                /** @description Their uploaded avatar, 256×256; null without one */
                                avatar_url: string | null;
                                /** @description The same, 64×64 */
                                avatar_thumb_url: string | null;
                            }[];
                            next_cursor: string | null;
                            counts: {
                                /** @description Active members (not pending invitations) */
                                active: number;
                                suspended: number;
                                deactivated: number;
                                pending: number;
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One member */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user_id: string | null;
                            email: string;
                            first_name: string;
                            last_name: string;
                            /** @description active | suspended | deactivated (turned their own login off) | pending */
                            status: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            };
                            team_ids: string[];
                            /** Format: date-time */
                            last_login_at: string | null;
                            /** Format: date-time */
                            joined_at: string | null;
                            /** @description A confirmed second factor on their login (false for pending invitations) */
                            mfa_enabled: boolean;
                            invitation_id?: string;
                            /** @description Their uploaded avatar, 256×256; null without one */
                            avatar_url: string | null;
                            /** @description The same, 64×64 */
                            avatar_thumb_url: string | null;
                            /** @description The mobile number on their profile (E.164); null without one */
                            mobile: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Remove a member from the account */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change a member's role */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        role_id: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user_id: string | null;
                            email: string;
                            first_name: string;
                            last_name: string;
                            /** @description active | suspended | deactivated (turned their own login off) | pending */
                            status: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            };
                            team_ids: string[];
                            /** Format: date-time */
                            last_login_at: string | null;
                            /** Format: date-time */
                            joined_at: string | null;
                            /** @description A confirmed second factor on their login (false for pending invitations) */
                            mfa_enabled: boolean;
                            invitation_id?: string;
                            /** @description Their uploaded avatar, 256×256; null without one */
                            avatar_url: string | null;
                            /** @description The same, 64×64 */
                            avatar_thumb_url: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/suspend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Suspend: no log-in to this account, its sessions end now; still a seat */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user_id: string | null;
                            email: string;
                            first_name: string;
                            last_name: string;
                            /** @description active | suspended | deactivated (turned their own login off) | pending */
                            status: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            };
                            team_ids: string[];
                            /** Format: date-time */
                            last_login_at: string | null;
                            /** Format: date-time */
                            joined_at: string | null;
                            /** @description A confirmed second factor on their login (false for pending invitations) */
                            mfa_enabled: boolean;
                            invitation_id?: string;
                            /** @description Their uploaded avatar, 256×256; null without one */
                            avatar_url: string | null;
                            /** @description The same, 64×64 */
                            avatar_thumb_url: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/reactivate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Reactivate a suspended member */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user_id: string | null;
                            email: string;
                            first_name: string;
                            last_name: string;
                            /** @description active | suspended | deactivated (turned their own login off) | pending */
                            status: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            };
                            team_ids: string[];
                            /** Format: date-time */
                            last_login_at: string | null;
                            /** Format: date-time */
                            joined_at: string | null;
                            /** @description A confirmed second factor on their login (false for pending invitations) */
                            mfa_enabled: boolean;
                            invitation_id?: string;
                            /** @description Their uploaded avatar, 256×256; null without one */
                            avatar_url: string | null;
                            /** @description The same, 64×64 */
                            avatar_thumb_url: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/logout": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End every session of the member */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            revoked: number;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/force-password-reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** End their sessions; their next log-in must set a new password */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/bulk-delete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Remove several members at once — all or nothing */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        user_ids: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                user_id: string;
                                removed: boolean;
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/bulk-role": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Give several members one role (members:update_role). Each member is changed as PATCH …/members/{user_id} would; refused ones are reported per member and the rest are committed together. Duplicate ids are answered once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        user_ids: string[];
                        role_id: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                user_id: string;
                                member?: {
                                    user_id: string | null;
                                    email: string;
                                    first_name: string;
                                    last_name: string;
                                    /** @description active | suspended | deactivated (turned their own login off) | pending */
                                    status: string;
                                    role: {
                                        id: string;
                                        key: string;
                                        name: string;
                                    };
                                    team_ids: string[];
                                    /** Format: date-time */
                                    last_login_at: string | null;
                                    /** Format: date-time */
                                    joined_at: string | null;
                                    /** @description A confirmed second factor on their login (false for pending invitations) */
                                    mfa_enabled: boolean;
                                    invitation_id?: string;
                                    /** @description Their uploaded avatar, 256×256; null without one */
                                    avatar_url: string | null;
                                    /** @description The same, 64×64 */
                                    avatar_thumb_url: string | null;
                                };
                                error?: {
                                    /** @description not_found, self_change, root_only, privilege_escalation, last_root — as PATCH …/members/{user_id} answers */
                                    code: string;
                                    detail: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/assignments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Members with their role, teams and every permission they hold with its sources (members:read, roles:read and teams:read). Pending invitations are not members and are left out */
        get: {
            parameters: {
                query?: {
                    /** @description Part of a name or email address */
                    q?: string;
                    /** @description Members whose own role is this one */
                    role_id?: string;
                    /** @description Members of this team */
                    team_id?: string;
                    /** @description Only members who hold this permission (through their role or a team) */
                    permission?: string;
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description The account's roles (columns, and choices for a role change) */
                            roles: {
                                id: string;
                                key: string;
                                name: string;
                            }[];
                            /** @description The account's teams, by name (one column each) */
                            teams: {
                                id: string;
                                name: string;
                                /** @description The role the team gives its members; null: none */
                                role: {
                                    id: string;
                                    key: string;
                                    name: string;
                                } | null;
                            }[];
                            data: {
                                user_id: string;
                                email: string;
                                first_name: string;
                                last_name: string;
                                /** @description First and last name; empty when they gave none */
                                name: string;
                                /** @description active | suspended | deactivated */
                                status: string;
                                role: {
                                    id: string;
                                    key: string;
                                    name: string;
                                };
                                teams: {
                                    id: string;
                                    name: string;
                                    /** @description The role the team gives its members; null: none */
                                    role: {
                                        id: string;
                                        key: string;
                                        name: string;
                                    } | null;
                                }[];
                                /** @description Every permission they hold (Root: the whole catalog), each with where it comes from */
                                permissions: {
                                    permission: string;
                                    sources: {
                                        /** @description role: the member's own role; team: the role a team of theirs gives */
                                        type: "role" | "team";
                                        role_id: string;
                                        role_key: string;
                                        role_name: string;
                                        team_id?: string;
                                        team_name?: string;
                                    }[];
                                }[];
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/sessions": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The member's live sessions in this account (security:read)
         * @description Sessions whose active account is this one; their sessions in other accounts are not shown.
         */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_seen_at: string;
                                /** Format: date-time */
                                expires_at: string;
                                ip: string | null;
                                user_agent: string | null;
                                device: {
                                    /** @description e.g. "Chrome 140"; "Unknown" when unrecognised */
                                    browser: string;
                                    /** @description e.g. "macOS" */
                                    os: string;
                                    /** @description desktop | mobile | tablet | unknown */
                                    type: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/sessions/{session_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** End one of the member's sessions in this account (members:suspend) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                    session_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/logins": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The member's latest sign-ins and failed attempts in this account, newest first (audit:read) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                };
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @description The audit event's id */
                                id: string;
                                /** Format: date-time */
                                at: string;
                                succeeded: boolean;
                                ip: string | null;
                                user_agent: string | null;
                                device: {
                                    /** @description e.g. "Chrome 140"; "Unknown" when unrecognised */
                                    browser: string;
                                    /** @description e.g. "macOS" */
                                    os: string;
                                    /** @description desktop | mobile | tablet | unknown */
                                    type: string;
                                };
                                /** @description The second factor used or passkey, when the event records one */
                                method: string | null;
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The member's second factors and how many recovery codes they have left (security:read) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            enabled: boolean;
                            factors: {
                                id: string;
                                /** @description totp | email | sms | passkey */
                                type: string;
                                label: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_used_at: string | null;
                            }[];
                            recovery_codes_remaining: number;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invitations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Invitations, newest first */
        get: {
            parameters: {
                query?: {
                    status?: "pending" | "accepted" | "revoked" | "expired";
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                email: string;
                                first_name: string;
                                last_name: string;
                                role: {
                                    id: string;
                                    key: string;
                                    name: string;
                                };
                                role_id: string;
                                team_ids: string[];
                                status: string;
                                /** Format: date-time */
                                expires_at: string;
                                invited_by: {
                                    user_id: string | null;
                                    name: string;
                                };
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_sent_at: string;
                                send_count: number;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Invite one or many addresses (≤ 100); per-address results. With preview: true, what accepting each would cost, writing nothing */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        emails: string[];
                        first_name?: string;
                        last_name?: string;
                        role_id?: string;
                        team_ids?: string[];
                        preview?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                email: string;
                                preview?: {
                                    amount: number;
                                    currency: string;
                                    lines: {
                                        kind: string;
                                        description: string;
                                        quantity: number;
                                        unit_amount: number;
                                        amount: number;
                                        period: {
                                            start: string;
                                            end: string;
                                        };
                                    }[];
                                };
                                error?: {
                                    code: string;
                                    detail: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                email: string;
                                invitation?: {
                                    id: string;
                                    email: string;
                                    first_name: string;
                                    last_name: string;
                                    role: {
                                        id: string;
                                        key: string;
                                        name: string;
                                    };
                                    role_id: string;
                                    team_ids: string[];
                                    status: string;
                                    /** Format: date-time */
                                    expires_at: string;
                                    invited_by: {
                                        user_id: string | null;
                                        name: string;
                                    };
                                    /** Format: date-time */
                                    created_at: string;
                                    /** Format: date-time */
                                    last_sent_at: string;
                                    send_count: number;
                                };
                                error?: {
                                    code: string;
                                    detail: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invitations/{invitation_id}/resend": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send again with a new link (≥ 1 minute apart, ≤ 5 times) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    invitation_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            email: string;
                            first_name: string;
                            last_name: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            };
                            role_id: string;
                            team_ids: string[];
                            status: string;
                            /** Format: date-time */
                            expires_at: string;
                            invited_by: {
                                user_id: string | null;
                                name: string;
                            };
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            last_sent_at: string;
                            send_count: number;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invitations/{invitation_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an invitation */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    invitation_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/invitations/lookup": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** What an invitation link is for (for the accept page) */
        get: {
            parameters: {
                query: {
                    token: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            email: string;
                            account_name: string;
                            invited_by_name: string;
                            role_name: string;
                            existing_user: boolean;
                            /** Format: date-time */
                            expires_at: string;
                            password_policy: components["schemas"]["PasswordPolicy"];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/invitations/accept": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Accept an invitation (new users set a password; existing users must be logged in as the invited address) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                        password?: string;
                        first_name?: string;
                        last_name?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user: components["schemas"]["Me"];
                            account_id: string | null;
                            csrf_token: string;
                            session: {
                                id: string;
                                /** Format: date-time */
                                expires_at: string;
                            };
                            password_change_required: boolean;
                            /** Format: date-time */
                            mfa_enrollment_due_at: string | null;
                            /**
                             * Format: date-time
                             * @description When the active account is deleted (a scheduled closure); null when none is
                             */
                            account_closure_delete_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/teams": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Teams of the account */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                name: string;
                                description: string;
                                role: {
                                    id: string;
                                    key: string;
                                    name: string;
                                } | null;
                                member_ids: string[];
                                /** @description Resources this team owns (what deleting it must transfer) */
                                resource_count: number;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Create a team (optionally granting a role to its members) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                        description?: string;
                        role_id?: string | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            description: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            } | null;
                            member_ids: string[];
                            /** @description Resources this team owns (what deleting it must transfer) */
                            resource_count: number;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/teams/{team_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One team */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    team_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            description: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            } | null;
                            member_ids: string[];
                            /** @description Resources this team owns (what deleting it must transfer) */
                            resource_count: number;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete a team, choosing where its members and resources go */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    team_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        reassign_members_to: string | null;
                        transfer_resources_to: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Edit a team */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    team_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        description?: string;
                        role_id?: string | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            description: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            } | null;
                            member_ids: string[];
                            /** @description Resources this team owns (what deleting it must transfer) */
                            resource_count: number;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/teams/{team_id}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Set the team's members */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    team_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        user_ids: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            description: string;
                            role: {
                                id: string;
                                key: string;
                                name: string;
                            } | null;
                            member_ids: string[];
                            /** @description Resources this team owns (what deleting it must transfer) */
                            resource_count: number;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/authz/check": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Allow or deny: one check, or a batch of up to 100 */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        account_id: string;
                        user_id: string;
                        permission: string;
                    } | {
                        checks: {
                            account_id: string;
                            user_id: string;
                            permission: string;
                        }[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            allowed: boolean;
                            reason: string;
                        } | {
                            results: {
                                allowed: boolean;
                                reason: string;
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your second factors and recovery codes left */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            enabled: boolean;
                            factors: {
                                id: string;
                                type: string;
                                label: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_used_at: string | null;
                            }[];
                            recovery_codes_remaining: number;
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/totp": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start enrolling an authenticator app */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        label?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            factor_id: string;
                            secret: string;
                            otpauth_uri: string;
                            qr_svg: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start using email codes as a second factor (a code is mailed to confirm) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            factor_id: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/sms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start using text-message codes: a code is sent to the number to prove it is yours */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        phone: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            factor_id: string;
                            phone: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/totp/{factor_id}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm an authenticator app with its current code (the first factor also returns recovery codes) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    factor_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        code: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            factor: {
                                id: string;
                                type: string;
                                label: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_used_at: string | null;
                            };
                            recovery_codes?: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/email/{factor_id}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm email codes with the code from the mail (the first factor also returns recovery codes) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    factor_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        code: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            factor: {
                                id: string;
                                type: string;
                                label: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_used_at: string | null;
                            };
                            recovery_codes?: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/sms/{factor_id}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm text-message codes with the code from the message (the first factor also returns recovery codes) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    factor_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        code: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            factor: {
                                id: string;
                                type: string;
                                label: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_used_at: string | null;
                            };
                            recovery_codes?: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/recovery-codes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** New recovery codes; the old ones stop working (needs a fresh authentication) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            recovery_codes: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/factors/{factor_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a second factor (your password is required) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    factor_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mfa/disable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Turn two-factor authentication off (your password is required) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/mfa/reset": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Remove a member's second factors and recovery codes and sign them out (security:manage) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/recovery-codes": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Issue new recovery codes for a member, shown once; their old ones stop working */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            recovery_codes: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/members/{user_id}/recovery-codes/reveal": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Reveal a member's unused recovery codes (needs a fresh authentication; they are told by mail; never a Root's) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    user_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            recovery_codes: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/passkeys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your passkeys */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                label: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_used_at: string | null;
                                backed_up: boolean;
                                device_type: string;
                                transports: string[];
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        /** Finish adding a passkey with the browser's answer (the first factor also returns recovery codes) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        challenge_id: string;
                        label?: string;
                        response: {
                            id: string;
                            rawId: string;
                            /** @enum {string} */
                            type: "public-key";
                            response: {
                                [key: string]: unknown;
                            };
                        } & {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            passkey: {
                                id: string;
                                label: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                last_used_at: string | null;
                                backed_up: boolean;
                                device_type: string;
                                transports: string[];
                            };
                            recovery_codes?: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/passkeys/options": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Start adding a passkey: options for navigator.credentials.create (a fresh authentication is needed when MFA is on) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            challenge_id: string;
                            options: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/passkeys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a passkey (your password is required, as for any second factor) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        password: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Rename a passkey */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        label: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            label: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            last_used_at: string | null;
                            backed_up: boolean;
                            device_type: string;
                            transports: string[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/auth/reauth/passkey/options": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Options for navigator.credentials.get to authenticate again with one of your passkeys (POST /auth/reauth/passkey) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            challenge_id: string;
                            options: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/reauth/passkey": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Authenticate again with a passkey to unlock sensitive actions for 10 minutes */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        challenge_id: string;
                        response: {
                            id: string;
                            rawId: string;
                            /** @enum {string} */
                            type: "public-key";
                            response: {
                                [key: string]: unknown;
                            };
                        } & {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            reauthenticated_until: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/passkey/options": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Options for navigator.credentials.get: passwordless log-in, or with mfa_token the passkey step of a password log-in */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        mfa_token?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            challenge_id: string;
                            options: {
                                [key: string]: unknown;
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/auth/passkey": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Log in with a passkey (passwordless, or with mfa_token as the second factor); sets the session cookie */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        challenge_id: string;
                        mfa_token?: string;
                        response: {
                            id: string;
                            rawId: string;
                            /** @enum {string} */
                            type: "public-key";
                            response: {
                                [key: string]: unknown;
                            };
                        } & {
                            [key: string]: unknown;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            user: components["schemas"]["Me"];
                            account_id: string | null;
                            csrf_token: string;
                            session: {
                                id: string;
                                /** Format: date-time */
                                expires_at: string;
                            };
                            password_change_required: boolean;
                            /** Format: date-time */
                            mfa_enrollment_due_at: string | null;
                            /**
                             * Format: date-time
                             * @description When the active account is deleted (a scheduled closure); null when none is
                             */
                            account_closure_delete_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/audit-events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The account's audit log, newest first
         * @description Needs the audit:read permission. Events are hash-chained per account.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Only events by this actor: a user id, or an API key id (key_…) */
                    actor_id?: string;
                    /** @description Exact action, or a prefix ending in ".*" (e.g. "member.*") */
                    action?: string;
                    /** @description Only events about this target */
                    target_id?: string;
                    /** @description Only events of this category (each event's `category`) */
                    category?: "members" | "invitations" | "roles_teams" | "security" | "api_keys_webhooks" | "billing" | "account_data";
                    /** @description Events at or after this time */
                    from?: string;
                    /** @description Events at or before this time */
                    to?: string;
                    limit?: number;
                    /** @description next_cursor of the previous page */
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                action: string;
                                actor: {
                                    /** @description user, system or api_key */
                                    type: string;
                                    /** @description The user's id, or the API key's (key_…) */
                                    id: string | null;
                                    /** @description The email of the member who acted (for a key, its creator) */
                                    email: string | null;
                                    /** @description The member who acted: the user, or the member the API key acts for */
                                    user_id: string | null;
                                    /** @description The person's name (or email when they have none), or the API key's name; null for the system and for people this account no longer names */
                                    name: string | null;
                                    /** @description The person's avatar, when they have one */
                                    avatar_url: string | null;
                                };
                                target: {
                                    type: string | null;
                                    id: string | null;
                                    /** @description The member, role, team or API key's name, when this account knows it */
                                    name: string | null;
                                };
                                /** @description What the action is about; the category= filter */
                                category: "members" | "invitations" | "roles_teams" | "security" | "api_keys_webhooks" | "billing" | "account_data";
                                changes: {
                                    [key: string]: unknown;
                                } | null;
                                change_names: {
                                    [key: string]: unknown;
                                } | null;
                                ip: string | null;
                                user_agent: string | null;
                                /** @description The user agent read for people, e.g. "Chrome on macOS" */
                                device: string | null;
                                request_id: string | null;
                                /** Format: date-time */
                                created_at: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/api-keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's API keys, newest first (api_keys:manage; never their secrets) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                name: string;
                                /** @description `gh_…` and the secret's last four characters, to tell keys apart */
                                prefix: string;
                                /** @description Permissions the key was given */
                                scopes: string[];
                                /** @description What it may do now: its scopes that its creator still holds (none while suspended) */
                                effective_scopes: string[];
                                /** @description IPs and CIDRs it may be used from, within the account's IP allowlist; empty = any */
                                allowed_ips: string[];
                                /** @description The member the key acts for */
                                created_by: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                                /** Format: date-time */
                                expires_at: string | null;
                                /** Format: date-time */
                                last_used_at: string | null;
                                last_used_ip: string | null;
                                /**
                                 * Format: date-time
                                 * @description Until when the secret replaced by the last rotation works
                                 */
                                previous_secret_expires_at: string | null;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Create an API key (api_keys:manage, fresh authentication); its secret is shown once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name: string;
                        scopes: string[];
                        /** Format: date-time */
                        expires_at?: string | null;
                        allowed_ips?: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            /** @description `gh_…` and the secret's last four characters, to tell keys apart */
                            prefix: string;
                            /** @description Permissions the key was given */
                            scopes: string[];
                            /** @description What it may do now: its scopes that its creator still holds (none while suspended) */
                            effective_scopes: string[];
                            /** @description IPs and CIDRs it may be used from, within the account's IP allowlist; empty = any */
                            allowed_ips: string[];
                            /** @description The member the key acts for */
                            created_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /** Format: date-time */
                            expires_at: string | null;
                            /** Format: date-time */
                            last_used_at: string | null;
                            last_used_ip: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation works
                             */
                            previous_secret_expires_at: string | null;
                        } & {
                            /** @description The secret, shown this once and never again */
                            secret: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/api-keys/{key_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One API key (api_keys:manage; never its secret) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            /** @description `gh_…` and the secret's last four characters, to tell keys apart */
                            prefix: string;
                            /** @description Permissions the key was given */
                            scopes: string[];
                            /** @description What it may do now: its scopes that its creator still holds (none while suspended) */
                            effective_scopes: string[];
                            /** @description IPs and CIDRs it may be used from, within the account's IP allowlist; empty = any */
                            allowed_ips: string[];
                            /** @description The member the key acts for */
                            created_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /** Format: date-time */
                            expires_at: string | null;
                            /** Format: date-time */
                            last_used_at: string | null;
                            last_used_ip: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation works
                             */
                            previous_secret_expires_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Revoke an API key at once (api_keys:manage: any key of the account) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Rename an API key or change its scopes, allowed IPs or expiry (its creator only; never beyond their permissions) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        name?: string;
                        scopes?: string[];
                        /** Format: date-time */
                        expires_at?: string | null;
                        allowed_ips?: string[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            /** @description `gh_…` and the secret's last four characters, to tell keys apart */
                            prefix: string;
                            /** @description Permissions the key was given */
                            scopes: string[];
                            /** @description What it may do now: its scopes that its creator still holds (none while suspended) */
                            effective_scopes: string[];
                            /** @description IPs and CIDRs it may be used from, within the account's IP allowlist; empty = any */
                            allowed_ips: string[];
                            /** @description The member the key acts for */
                            created_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /** Format: date-time */
                            expires_at: string | null;
                            /** Format: date-time */
                            last_used_at: string | null;
                            last_used_ip: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation works
                             */
                            previous_secret_expires_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/api-keys/{key_id}/rotate": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A new secret for an API key (its creator only; a person needs a fresh authentication); the old one works for grace_seconds */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /**
                         * @description How long the old secret keeps working: 0 (stops at once) to 604800 (7 days)
                         * @default 86400
                         */
                        grace_seconds?: number;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            /** @description `gh_…` and the secret's last four characters, to tell keys apart */
                            prefix: string;
                            /** @description Permissions the key was given */
                            scopes: string[];
                            /** @description What it may do now: its scopes that its creator still holds (none while suspended) */
                            effective_scopes: string[];
                            /** @description IPs and CIDRs it may be used from, within the account's IP allowlist; empty = any */
                            allowed_ips: string[];
                            /** @description The member the key acts for */
                            created_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /** Format: date-time */
                            expires_at: string | null;
                            /** Format: date-time */
                            last_used_at: string | null;
                            last_used_ip: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation works
                             */
                            previous_secret_expires_at: string | null;
                        } & {
                            /** @description The secret, shown this once and never again */
                            secret: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/api-keys/{key_id}/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Requests an API key made per UTC day by status class, days without any included (api_keys:manage; the last 30 days unless asked, at most 366; a few seconds behind) */
        get: {
            parameters: {
                query?: {
                    /** @description First day (UTC), YYYY-MM-DD */
                    from?: string;
                    /** @description Last day (UTC), YYYY-MM-DD; on or after from */
                    to?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @description A UTC day, YYYY-MM-DD */
                                date: string;
                                requests: number;
                                /** @description Answers below 400 (1xx and 3xx count here too) */
                                status_2xx: number;
                                status_4xx: number;
                                status_5xx: number;
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/api-keys/{key_id}/logs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An API key's requests, newest first (api_keys:manage; kept 30 days; a few seconds behind) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                    key_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** Format: date-time */
                                at: string;
                                method: string;
                                /** @description The route pattern, e.g. /api/v1/accounts/:account_id/members */
                                route: string;
                                status: number;
                                ip: string | null;
                                duration_ms: number;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/plans": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The plan catalog (prices in cents per seat per month) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                name: string;
                                seat_limit: number | null;
                                api_rate_per_minute: number;
                                api_keys_limit: number | null;
                                webhooks_limit: number | null;
                                /** @description Whether accounts may add custom domains */
                                custom_domains: boolean;
                                prices: {
                                    month: number;
                                    year_per_month: number;
                                };
                                currency: string;
                                annual_saving_percent: number | null;
                                custom: boolean;
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/billing": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Plan, seats, current period, next bill, usage and payment method (billing:read) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            plan: string;
                            plan_name: string;
                            interval: string | null;
                            seats: {
                                used: number;
                                billed: number;
                                limit: number | null;
                            };
                            unit_price: number;
                            monthly_equivalent: number;
                            current_period: {
                                start: string;
                                end: string;
                            } | null;
                            next_billing_date: string | null;
                            estimated_next_amount: number | null;
                            ends_with: string | null;
                            credit_balance: number;
                            auto_pay: boolean;
                            currency: string;
                            usage: {
                                api_calls: number;
                                storage_bytes: number;
                            };
                            limits: {
                                /** @description Requests each API key may make per minute */
                                api_rate_per_minute: number;
                                /** @description Unrevoked API keys the account may hold; null = no limit */
                                api_keys: number | null;
                                /** @description Webhook endpoints the account may have; null = no limit */
                                webhooks: number | null;
                            };
                            payment_method: {
                                id: string;
                                type: string;
                                brand: string | null;
                                bank_name: string | null;
                                last4: string;
                                exp_month: number | null;
                                exp_year: number | null;
                                default: boolean;
                                provider: string;
                                provider_label: string;
                                created_at: string;
                            } | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/billing/subscription": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Change plan or billing interval (billing:manage); with preview: true only the invoice it would make */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        plan: "free" | "pro" | "team" | "enterprise";
                        interval?: "month" | "year";
                        preview?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            effective: string;
                            period: {
                                start: string;
                                end: string;
                            } | null;
                            lines: {
                                kind: string;
                                description: string;
                                quantity: number;
                                unit_amount: number;
                                amount: number;
                                period: {
                                    start: string;
                                    end: string;
                                };
                            }[];
                            subtotal: number;
                            total: number;
                            currency: string;
                        } | {
                            billing: {
                                plan: string;
                                plan_name: string;
                                interval: string | null;
                                seats: {
                                    used: number;
                                    billed: number;
                                    limit: number | null;
                                };
                                unit_price: number;
                                monthly_equivalent: number;
                                current_period: {
                                    start: string;
                                    end: string;
                                } | null;
                                next_billing_date: string | null;
                                estimated_next_amount: number | null;
                                ends_with: string | null;
                                credit_balance: number;
                                auto_pay: boolean;
                                currency: string;
                                usage: {
                                    api_calls: number;
                                    storage_bytes: number;
                                };
                                limits: {
                                    /** @description Requests each API key may make per minute */
                                    api_rate_per_minute: number;
                                    /** @description Unrevoked API keys the account may hold; null = no limit */
                                    api_keys: number | null;
                                    /** @description Webhook endpoints the account may have; null = no limit */
                                    webhooks: number | null;
                                };
                                payment_method: {
                                    id: string;
                                    type: string;
                                    brand: string | null;
                                    bank_name: string | null;
                                    last4: string;
                                    exp_month: number | null;
                                    exp_year: number | null;
                                    default: boolean;
                                    provider: string;
                                    provider_label: string;
                                    created_at: string;
                                } | null;
                            };
                            invoice: unknown | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        /** Cancel at the end of the period (the account then returns to Free) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            plan: string;
                            plan_name: string;
                            interval: string | null;
                            seats: {
                                used: number;
                                billed: number;
                                limit: number | null;
                            };
                            unit_price: number;
                            monthly_equivalent: number;
                            current_period: {
                                start: string;
                                end: string;
                            } | null;
                            next_billing_date: string | null;
                            estimated_next_amount: number | null;
                            ends_with: string | null;
                            credit_balance: number;
                            auto_pay: boolean;
                            currency: string;
                            usage: {
                                api_calls: number;
                                storage_bytes: number;
                            };
                            limits: {
                                /** @description Requests each API key may make per minute */
                                api_rate_per_minute: number;
                                /** @description Unrevoked API keys the account may hold; null = no limit */
                                api_keys: number | null;
                                /** @description Webhook endpoints the account may have; null = no limit */
                                webhooks: number | null;
                            };
                            payment_method: {
                                id: string;
                                type: string;
                                brand: string | null;
                                bank_name: string | null;
                                last4: string;
                                exp_month: number | null;
                                exp_year: number | null;
                                default: boolean;
                                provider: string;
                                provider_label: string;
                                created_at: string;
                            } | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/payment-methods": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Payment methods, the default first */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                type: "card" | "ach";
                                brand: string | null;
                                bank_name: string | null;
                                last4: string;
                                exp_month: number | null;
                                exp_year: number | null;
                                default: boolean;
                                provider: string;
                                provider_label: string;
                                /** Format: date-time */
                                created_at: string;
                            }[];
                            provider: {
                                name: string;
                                label: string;
                                test_mode: boolean;
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Add a payment method from a provider token (the first one becomes the default) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        type: "card" | "ach";
                        token: string;
                        default?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            type: "card" | "ach";
                            brand: string | null;
                            bank_name: string | null;
                            last4: string;
                            exp_month: number | null;
                            exp_year: number | null;
                            default: boolean;
                            provider: string;
                            provider_label: string;
                            /** Format: date-time */
                            created_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/payment-methods/{method_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Remove a payment method (removing the default makes the newest remaining one the default) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    method_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Make a payment method the default */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    method_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @enum {boolean} */
                        default: true;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            type: "card" | "ach";
                            brand: string | null;
                            bank_name: string | null;
                            last4: string;
                            exp_month: number | null;
                            exp_year: number | null;
                            default: boolean;
                            provider: string;
                            provider_label: string;
                            /** Format: date-time */
                            created_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/billing/auto-pay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Turn automatic payment of invoices on or off (needs a paid plan) */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        auto_pay: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            auto_pay: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invoices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Invoices, newest first (without lines) */
        get: {
            parameters: {
                query?: {
                    /** @description Only invoices with this status; "failed": open after a failed payment attempt */
                    status?: "draft" | "open" | "paid" | "void" | "failed";
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                number: string;
                                status: "draft" | "open" | "paid" | "void";
                                period: {
                                    /** Format: date-time */
                                    start: string;
                                    /** Format: date-time */
                                    end: string;
                                };
                                /** @description Cents */
                                subtotal: number;
                                /** @description Cents */
                                total: number;
                                currency: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                paid_at: string | null;
                                payment_attempts: number;
                                /** Format: date-time */
                                next_payment_at: string | null;
                                last_payment_error: string | null;
                                /** @description Who is billed, as the account's profile said when the invoice was issued */
                                bill_to: {
                                    legal_name: string;
                                    address: {
                                        line1: string;
                                        line2: string | null;
                                        city: string;
                                        region: string | null;
                                        postal_code: string | null;
                                        country: string;
                                    } | null;
                                    tax_id: string | null;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invoices.csv": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The invoice list as CSV (totals in dollars) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description CSV */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/csv": string;
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invoices/{invoice_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One invoice with its lines */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    invoice_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            number: string;
                            status: "draft" | "open" | "paid" | "void";
                            period: {
                                /** Format: date-time */
                                start: string;
                                /** Format: date-time */
                                end: string;
                            };
                            /** @description Cents */
                            subtotal: number;
                            /** @description Cents */
                            total: number;
                            currency: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            paid_at: string | null;
                            payment_attempts: number;
                            /** Format: date-time */
                            next_payment_at: string | null;
                            last_payment_error: string | null;
                            /** @description Who is billed, as the account's profile said when the invoice was issued */
                            bill_to: {
                                legal_name: string;
                                address: {
                                    line1: string;
                                    line2: string | null;
                                    city: string;
                                    region: string | null;
                                    postal_code: string | null;
                                    country: string;
                                } | null;
                                tax_id: string | null;
                            };
                            lines: {
                                kind: "seats" | "proration" | "credit";
                                description: string;
                                quantity: number;
                                /** @description Cents */
                                unit_amount: number;
                                /** @description Cents; credits are negative */
                                amount: number;
                                period: {
                                    /** Format: date-time */
                                    start: string;
                                    /** Format: date-time */
                                    end: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invoices/{invoice_id}/pdf": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The invoice as a PDF */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    invoice_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description PDF */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/pdf": string;
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/invoices/{invoice_id}/pay": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Pay an open invoice now with the default payment method (402 payment_failed on a decline) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    invoice_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            number: string;
                            status: "draft" | "open" | "paid" | "void";
                            period: {
                                /** Format: date-time */
                                start: string;
                                /** Format: date-time */
                                end: string;
                            };
                            /** @description Cents */
                            subtotal: number;
                            /** @description Cents */
                            total: number;
                            currency: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            paid_at: string | null;
                            payment_attempts: number;
                            /** Format: date-time */
                            next_payment_at: string | null;
                            last_payment_error: string | null;
                            /** @description Who is billed, as the account's profile said when the invoice was issued */
                            bill_to: {
                                legal_name: string;
                                address: {
                                    line1: string;
                                    line2: string | null;
                                    city: string;
                                    region: string | null;
                                    postal_code: string | null;
                                    country: string;
                                } | null;
                                tax_id: string | null;
                            };
                            lines: {
                                kind: "seats" | "proration" | "credit";
                                description: string;
                                quantity: number;
                                /** @description Cents */
                                unit_amount: number;
                                /** @description Cents; credits are negative */
                                amount: number;
                                period: {
                                    /** Format: date-time */
                                    start: string;
                                    /** Format: date-time */
                                    end: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/overview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * The account at a glance: members and seats, second-factor adoption, sign-ins and one metric over a range, inactive members, recent admin activity (audit:read) and the next bill (billing:read)
         * @description Needs members:read. Days are UTC.
         */
        get: {
            parameters: {
                query?: {
                    /** @description Days (UTC) up to today, or the last 12 calendar months by month; default last_30_days */
                    range?: "today" | "last_7_days" | "last_30_days" | "last_90_days" | "last_12_months" | "year_to_date";
                    /** @description What `series[].value` counts: active_users (people who signed in), logins, sessions (started), api_calls (by the account's API keys), errors (failed sign-ins + API key 4xx/5xx); default active_users */
                    metric?: "active_users" | "sessions" | "logins" | "api_calls" | "errors";
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            range: "today" | "last_7_days" | "last_30_days" | "last_90_days" | "last_12_months" | "year_to_date";
                            metric: "active_users" | "sessions" | "logins" | "api_calls" | "errors";
                            bucket: "day" | "month";
                            /** @description First day of the range (UTC), YYYY-MM-DD */
                            from: string;
                            /** @description Last day of the range (UTC), YYYY-MM-DD */
                            to: string;
                            members: {
                                active: number;
                                suspended: number;
                                /** @description Turned their own login off; still a seat */
                                deactivated: number;
                                /** @description Open invitations */
                                pending: number;
                                /** @description active + suspended + deactivated + pending */
                                seats_used: number;
                                /** @description null: no limit */
                                seat_limit: number | null;
                            };
                            mfa: {
                                members_with_mfa: number;
                                /** @description Active members (not suspended, login not turned off) */
                                members_total: number;
                                /** @description Rounded; null when there are no active members */
                                percent: number | null;
                                /** @description Active members whose role (or a team's role) must use a second factor and who have none (at most 50, by name) */
                                missing_required: {
                                    user_id: string;
                                    name: string;
                                    email: string;
                                }[];
                                missing_required_count: number;
                            };
                            series: {
                                /** @description The bucket: YYYY-MM-DD, or YYYY-MM for last_12_months */
                                date: string;
                                /** @description Sign-ins */
                                succeeded: number;
                                /** @description Failed sign-ins: wrong password or passkey, wrong second-factor code, refused by the IP allowlist */
                                failed: number;
                                /** @description The chosen metric */
                                value: number;
                            }[];
                            totals: {
                                succeeded: number;
                                failed: number;
                                /** @description For active_users: people who signed in over the whole range */
                                value: number;
                            };
                            inactive_members: {
                                /** Format: date-time */
                                since: string;
                                count: number;
                                /** @description Longest without a sign-in first (never first), at most 10 */
                                data: {
                                    user_id: string;
                                    name: string;
                                    email: string;
                                    /** Format: date-time */
                                    last_login_at: string | null;
                                }[];
                            };
                            recent_admin_activity: {
                                id: string;
                                action: string;
                                actor: {
                                    /** @description user, system or api_key */
                                    type: string;
                                    /** @description The user's id, or the API key's (key_…) */
                                    id: string | null;
                                    /** @description The email of the member who acted (for a key, its creator) */
                                    email: string | null;
                                    /** @description The member who acted: the user, or the member the API key acts for */
                                    user_id: string | null;
                                    /** @description The person's name (or email when they have none), or the API key's name; null for the system and for people this account no longer names */
                                    name: string | null;
                                    /** @description The person's avatar, when they have one */
                                    avatar_url: string | null;
                                };
                                target: {
                                    type: string | null;
                                    id: string | null;
                                    /** @description The member, role, team or API key's name, when this account knows it */
                                    name: string | null;
                                };
                                /** @description What the action is about; the category= filter */
                                category: "members" | "invitations" | "roles_teams" | "security" | "api_keys_webhooks" | "billing" | "account_data";
                                changes: {
                                    [key: string]: unknown;
                                } | null;
                                change_names: {
                                    [key: string]: unknown;
                                } | null;
                                ip: string | null;
                                user_agent: string | null;
                                /** @description The user agent read for people, e.g. "Chrome on macOS" */
                                device: string | null;
                                request_id: string | null;
                                /** Format: date-time */
                                created_at: string;
                            }[] | null;
                            billing: {
                                plan: string;
                                plan_name: string;
                                /** @description month or year; null on Free */
                                interval: string | null;
                                /** Format: date-time */
                                next_billing_date: string | null;
                                /** @description Minor units (cents) */
                                estimated_next_amount: number | null;
                                currency: string;
                            } | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/event-types": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Every event type Gatehouse sends to webhooks, with an example payload */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                type: string;
                                description: string;
                                category: string | null;
                                example: {
                                    [key: string]: unknown;
                                };
                            }[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/notification-preferences": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your notification preferences: categories × channels, with the locked ones */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            categories: {
                                key: "security" | "members" | "billing" | "product_updates" | "reports";
                                channels: {
                                    email: boolean;
                                    in_app: boolean;
                                    sms: boolean;
                                };
                                locked: ("email" | "in_app" | "sms")[];
                            }[];
                        };
                    };
                };
            };
        };
        /** Change your notification preferences (the categories and channels given) */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        categories: {
                            key: "security" | "members" | "billing" | "product_updates" | "reports";
                            channels: {
                                email?: boolean;
                                in_app?: boolean;
                                sms?: boolean;
                            };
                            locked?: string[];
                        }[];
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            categories: {
                                key: "security" | "members" | "billing" | "product_updates" | "reports";
                                channels: {
                                    email: boolean;
                                    in_app: boolean;
                                    sms: boolean;
                                };
                                locked: ("email" | "in_app" | "sms")[];
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Your in-app notifications, newest first */
        get: {
            parameters: {
                query?: {
                    unread?: boolean;
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                type: string;
                                title: string;
                                body: string;
                                link: string | null;
                                /** Format: date-time */
                                read_at: string | null;
                                /** Format: date-time */
                                created_at: string;
                            }[];
                            next_cursor: string | null;
                            unread_count: number;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/notifications/read": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Mark your notifications read: some (`ids`; others' ids change nothing) or all */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        ids: string[];
                    } | {
                        /** @enum {boolean} */
                        all: true;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            marked: number;
                            unread_count: number;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/notifications/stream": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Server-Sent Events: `event: notification` with each new notification as JSON, and a comment every 25 s */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description An endless event stream */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/event-stream": string;
                    };
                };
                /** @description RFC 9457 problem details */
                401: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mobile/verification": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Text a code to your profile's mobile number, to verify it (for SMS alerts) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            mobile: string;
                            expires_in: number;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/mobile/verification/confirm": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Confirm the texted code: your mobile number is verified */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        code: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Me"];
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/notifications/unsubscribe": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A page with an unsubscribe button (changes nothing) */
        get: {
            parameters: {
                query: {
                    token: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        /** One-click unsubscribe (RFC 8058) from a mail's List-Unsubscribe link: that category's mail stops */
        post: {
            parameters: {
                query: {
                    token: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            unsubscribed: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's webhook endpoints, newest first (webhooks:manage; never their secrets) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                url: string;
                                description: string;
                                /** @description Event types it receives, or ["*"] for all */
                                events: string[];
                                enabled: boolean;
                                /** @description Why Gatehouse turned it off (every delivery failed for 5 days) */
                                disabled_reason: string | null;
                                /**
                                 * Format: date-time
                                 * @description Until when the secret replaced by the last rotation signs alongside the new one
                                 */
                                previous_secret_expires_at: string | null;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Add a webhook endpoint (webhooks:manage); its signing secret is shown once */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description https:// URL the events are POSTed to */
                        url: string;
                        /** @description Event types (GET /api/v1/event-types), or ["*"] for every one */
                        events: string[];
                        description?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            url: string;
                            description: string;
                            /** @description Event types it receives, or ["*"] for all */
                            events: string[];
                            enabled: boolean;
                            /** @description Why Gatehouse turned it off (every delivery failed for 5 days) */
                            disabled_reason: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation signs alongside the new one
                             */
                            previous_secret_expires_at: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        } & {
                            /** @description `whsec_…`: signs every delivery; shown this once and never again */
                            secret: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/webhooks/{webhook_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One webhook endpoint (webhooks:manage) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    webhook_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            url: string;
                            description: string;
                            /** @description Event types it receives, or ["*"] for all */
                            events: string[];
                            enabled: boolean;
                            /** @description Why Gatehouse turned it off (every delivery failed for 5 days) */
                            disabled_reason: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation signs alongside the new one
                             */
                            previous_secret_expires_at: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete a webhook endpoint and its delivery log */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    webhook_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change a webhook endpoint's URL, events or description, or turn it off or on */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    webhook_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description https:// URL the events are POSTed to */
                        url?: string;
                        /** @description Event types (GET /api/v1/event-types), or ["*"] for every one */
                        events?: string[];
                        enabled?: boolean;
                        description?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            url: string;
                            description: string;
                            /** @description Event types it receives, or ["*"] for all */
                            events: string[];
                            enabled: boolean;
                            /** @description Why Gatehouse turned it off (every delivery failed for 5 days) */
                            disabled_reason: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation signs alongside the new one
                             */
                            previous_secret_expires_at: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/webhooks/{webhook_id}/rotate-secret": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** A new signing secret; the old one signs alongside it for 24 hours */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    webhook_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            url: string;
                            description: string;
                            /** @description Event types it receives, or ["*"] for all */
                            events: string[];
                            enabled: boolean;
                            /** @description Why Gatehouse turned it off (every delivery failed for 5 days) */
                            disabled_reason: string | null;
                            /**
                             * Format: date-time
                             * @description Until when the secret replaced by the last rotation signs alongside the new one
                             */
                            previous_secret_expires_at: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        } & {
                            /** @description `whsec_…`: signs every delivery; shown this once and never again */
                            secret: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/webhooks/{webhook_id}/test": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a webhook.test event to this endpoint only */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    webhook_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description `whd_…`, also the `webhook-id` header of every attempt */
                            id: string;
                            event_id: string;
                            event_type: string;
                            status: "pending" | "succeeded" | "failed";
                            attempts: number;
                            response_status: number | null;
                            /** @description The first 1 KiB of the last answer's body */
                            response_body: string | null;
                            duration_ms: number | null;
                            error: string | null;
                            /** Format: date-time */
                            next_attempt_at: string | null;
                            /** Format: date-time */
                            last_attempt_at: string | null;
                            /** Format: date-time */
                            created_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/webhooks/{webhook_id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The endpoint's deliveries, newest first (kept 30 days) */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                    webhook_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @description `whd_…`, also the `webhook-id` header of every attempt */
                                id: string;
                                event_id: string;
                                event_type: string;
                                status: "pending" | "succeeded" | "failed";
                                attempts: number;
                                response_status: number | null;
                                /** @description The first 1 KiB of the last answer's body */
                                response_body: string | null;
                                duration_ms: number | null;
                                error: string | null;
                                /** Format: date-time */
                                next_attempt_at: string | null;
                                /** Format: date-time */
                                last_attempt_at: string | null;
                                /** Format: date-time */
                                created_at: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/webhooks/{webhook_id}/deliveries/{delivery_id}/retry": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send a failed or waiting delivery again now */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    webhook_id: string;
                    delivery_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description `whd_…`, also the `webhook-id` header of every attempt */
                            id: string;
                            event_id: string;
                            event_type: string;
                            status: "pending" | "succeeded" | "failed";
                            attempts: number;
                            response_status: number | null;
                            /** @description The first 1 KiB of the last answer's body */
                            response_body: string | null;
                            duration_ms: number | null;
                            error: string | null;
                            /** Format: date-time */
                            next_attempt_at: string | null;
                            /** Format: date-time */
                            last_attempt_at: string | null;
                            /** Format: date-time */
                            created_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/connected-apps": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Third-party applications the account's members authorized, by name (security:read) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                client_id: string;
                                name: string;
                                logo_uri: string | null;
                                /** @description Every scope a member of the account granted it */
                                scopes: string[];
                                /** @description How many of the account's members authorized it */
                                members: number;
                                /** Format: date-time */
                                last_authorized_at: string;
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/connected-apps/{client_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke an application for the whole account (security:manage): its grants and refresh tokens end at once */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    client_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/domains": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's custom domains, oldest first (account:read) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                /** @description `dom_…` */
                                id: string;
                                /** @description Lowercase ASCII (an internationalized name as punycode) */
                                hostname: string;
                                status: "pending" | "verified" | "failed";
                                /** @description The TXT record to publish: `_gatehouse.<hostname>` = `gatehouse-verification=…` */
                                txt_record: {
                                    name: string;
                                    value: string;
                                };
                                /** @description Where `<hostname>`'s CNAME must point (PUBLIC_HOSTNAME) */
                                cname_target: string;
                                /** Format: date-time */
                                verified_at: string | null;
                                /** Format: date-time */
                                last_checked_at: string | null;
                                /** @description Which record is missing or wrong at the last check */
                                failure_reason: string | null;
                                /** Format: date-time */
                                created_at: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Add a custom domain (account:update; Team plan and above): the records to publish */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description login.example.com; unicode names are stored as punycode */
                        hostname: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description `dom_…` */
                            id: string;
                            /** @description Lowercase ASCII (an internationalized name as punycode) */
                            hostname: string;
                            status: "pending" | "verified" | "failed";
                            /** @description The TXT record to publish: `_gatehouse.<hostname>` = `gatehouse-verification=…` */
                            txt_record: {
                                name: string;
                                value: string;
                            };
                            /** @description Where `<hostname>`'s CNAME must point (PUBLIC_HOSTNAME) */
                            cname_target: string;
                            /** Format: date-time */
                            verified_at: string | null;
                            /** Format: date-time */
                            last_checked_at: string | null;
                            /** @description Which record is missing or wrong at the last check */
                            failure_reason: string | null;
                            /** Format: date-time */
                            created_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/domains/{domain_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One custom domain (account:read) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    domain_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description `dom_…` */
                            id: string;
                            /** @description Lowercase ASCII (an internationalized name as punycode) */
                            hostname: string;
                            status: "pending" | "verified" | "failed";
                            /** @description The TXT record to publish: `_gatehouse.<hostname>` = `gatehouse-verification=…` */
                            txt_record: {
                                name: string;
                                value: string;
                            };
                            /** @description Where `<hostname>`'s CNAME must point (PUBLIC_HOSTNAME) */
                            cname_target: string;
                            /** Format: date-time */
                            verified_at: string | null;
                            /** Format: date-time */
                            last_checked_at: string | null;
                            /** @description Which record is missing or wrong at the last check */
                            failure_reason: string | null;
                            /** Format: date-time */
                            created_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Remove a custom domain (account:update); it stops serving the account at once */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    domain_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/domains/{domain_id}/verify": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Look the TXT and CNAME records up now (account:update; 10 a minute per account); 409 when another account verified the name */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    domain_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description `dom_…` */
                            id: string;
                            /** @description Lowercase ASCII (an internationalized name as punycode) */
                            hostname: string;
                            status: "pending" | "verified" | "failed";
                            /** @description The TXT record to publish: `_gatehouse.<hostname>` = `gatehouse-verification=…` */
                            txt_record: {
                                name: string;
                                value: string;
                            };
                            /** @description Where `<hostname>`'s CNAME must point (PUBLIC_HOSTNAME) */
                            cname_target: string;
                            /** Format: date-time */
                            verified_at: string | null;
                            /** Format: date-time */
                            last_checked_at: string | null;
                            /** @description Which record is missing or wrong at the last check */
                            failure_reason: string | null;
                            /** Format: date-time */
                            created_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                402: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/internal/tls-allowed": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Caddy's on-demand TLS check: 200 for a verified custom domain (or PUBLIC_URL's host), else 404 */
        get: {
            parameters: {
                query?: {
                    domain?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {boolean} */
                            allowed: true;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/.well-known/webauthn": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** WebAuthn related origins: the verified custom domains */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            origins: string[];
                        };
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/branding": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's branding (account:read; every member) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description #rrggbb; at least 3:1 against both theme backgrounds */
                            primary_color: string | null;
                            /** @description Read-only: #000000 or #ffffff, whichever reads at 4.5:1 or more on primary_color */
                            primary_text_color: string | null;
                            /** @description Read-only: set by uploading a logo */
                            logo_url: string | null;
                            login_message: string | null;
                            support_url: string | null;
                            support_email: string | null;
                            privacy_url: string | null;
                            terms_url: string | null;
                            email_templates: {
                                invitation: {
                                    subject: string | null;
                                    intro: string | null;
                                };
                                welcome: {
                                    subject: string | null;
                                    intro: string | null;
                                };
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change the branding (account:update): absent fields stay, null returns a field to the default. A colour under 3:1 against either theme's background is refused naming both ratios */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description #rrggbb or #rgb (stored lower-case #rrggbb); null: the default */
                        primary_color?: string | null;
                        /** @description Plain text shown on the log-in page, at most 280 characters */
                        login_message?: string | null;
                        /** @description http(s) address */
                        support_url?: string | null;
                        /** @description Email address */
                        support_email?: string | null;
                        /** @description http(s) address */
                        privacy_url?: string | null;
                        /** @description http(s) address */
                        terms_url?: string | null;
                        email_templates?: {
                            invitation?: {
                                /** @description At most 150 characters, one line; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                subject?: string | null;
                                /** @description At most 2000 characters; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                intro?: string | null;
                            } | null;
                            welcome?: {
                                /** @description At most 150 characters, one line; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                subject?: string | null;
                                /** @description At most 2000 characters; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                intro?: string | null;
                            } | null;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description #rrggbb; at least 3:1 against both theme backgrounds */
                            primary_color: string | null;
                            /** @description Read-only: #000000 or #ffffff, whichever reads at 4.5:1 or more on primary_color */
                            primary_text_color: string | null;
                            /** @description Read-only: set by uploading a logo */
                            logo_url: string | null;
                            login_message: string | null;
                            support_url: string | null;
                            support_email: string | null;
                            privacy_url: string | null;
                            terms_url: string | null;
                            email_templates: {
                                invitation: {
                                    subject: string | null;
                                    intro: string | null;
                                };
                                welcome: {
                                    subject: string | null;
                                    intro: string | null;
                                };
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/branding/preview": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Render the invitation or welcome mail with the saved branding and these unsaved fields over it, with sample values (account:update) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Which mail */
                        template: "invitation" | "welcome";
                        branding?: {
                            /** @description #rrggbb or #rgb (stored lower-case #rrggbb); null: the default */
                            primary_color?: string | null;
                            /** @description Plain text shown on the log-in page, at most 280 characters */
                            login_message?: string | null;
                            /** @description http(s) address */
                            support_url?: string | null;
                            /** @description Email address */
                            support_email?: string | null;
                            /** @description http(s) address */
                            privacy_url?: string | null;
                            /** @description http(s) address */
                            terms_url?: string | null;
                            email_templates?: {
                                invitation?: {
                                    /** @description At most 150 characters, one line; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                    subject?: string | null;
                                    /** @description At most 2000 characters; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                    intro?: string | null;
                                } | null;
                                welcome?: {
                                    /** @description At most 150 characters, one line; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                    subject?: string | null;
                                    /** @description At most 2000 characters; may use {{account_name}}, {{inviter_name}}, {{recipient_name}}, {{recipient_email}}, {{role_name}} */
                                    intro?: string | null;
                                } | null;
                            };
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            subject: string;
                            html: string;
                            text: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/branding/test-email": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Send the invitation or welcome mail, as saved, to yourself (account:update; 5 an hour) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Which mail */
                        template: "invitation" | "welcome";
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "queued";
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/branding": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The log-in page's branding, without authentication: the account of a verified custom domain (the Host), else of ?account=<slug>. Unknown and unbranded accounts answer the same */
        get: {
            parameters: {
                query?: {
                    account?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            branded: boolean;
                            account_name: string | null;
                            logo_url: string | null;
                            primary_color: string | null;
                            primary_text_color: string | null;
                            login_message: string | null;
                            support_url: string | null;
                            support_email: string | null;
                            privacy_url: string | null;
                            terms_url: string | null;
                            /** @description Whether the log-in page on this host offers passkeys */
                            passkeys: boolean;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/logo": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Upload the account's logo (account:update); served within 512×512 and 128×128, PNG
         * @description multipart/form-data with the image in the field `file`: PNG, JPEG or WebP, at most 2 MB, recognised from its content (not its name or declared type). It is re-encoded without its metadata.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            /** @description multipart/form-data with the image in the field `file`: PNG, JPEG or WebP, at most 2 MB, recognised from its content (not its name or declared type). It is re-encoded without its metadata. */
            requestBody: {
                content: {
                    "multipart/form-data": {
                        /**
                         * Format: binary
                         * @description The image
                         */
                        file: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            name: string;
                            slug: string;
                            /** @description The uploaded logo, within 512×512 (PUT …/logo); read-only */
                            logo_url: string | null;
                            /** @description The same, within 128×128 */
                            logo_thumb_url: string | null;
                            legal_name: string | null;
                            website: string | null;
                            industry: string | null;
                            industry_other: string | null;
                            phone: string | null;
                            address: {
                                line1: string;
                                line2: string | null;
                                city: string;
                                region: string | null;
                                postal_code: string | null;
                                country: string;
                            } | null;
                            tax_id: string | null;
                            billing_email: string | null;
                            certifications: string[];
                            contact_email: string | null;
                            default_role_id: string | null;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                            /**
                             * Format: date-time
                             * @description When the account is deleted (a scheduled closure), else null
                             */
                            closure_delete_at?: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        /** Remove the account's logo (account:update) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/avatar": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /**
         * Upload your avatar; served as 256×256 and 64×64 squares, WebP
         * @description multipart/form-data with the image in the field `file`: PNG, JPEG or WebP, at most 2 MB, recognised from its content (not its name or declared type). It is re-encoded without its metadata.
         */
        put: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            /** @description multipart/form-data with the image in the field `file`: PNG, JPEG or WebP, at most 2 MB, recognised from its content (not its name or declared type). It is re-encoded without its metadata. */
            requestBody: {
                content: {
                    "multipart/form-data": {
                        /**
                         * Format: binary
                         * @description The image
                         */
                        file: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Me"];
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                413: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                415: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        post?: never;
        /** Remove your avatar */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/files/{key}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A stored image (logo, avatar) by its key; cached forever */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    key: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description The image */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "image/png": string;
                        "image/webp": string;
                    };
                };
                /** @description Not modified (If-None-Match) */
                304: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/data-retention": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** How long the account keeps its audit log, export files and departed members' data (account:read) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description null = keep forever (Enterprise) */
                            audit_log_days: number | null;
                            export_files_days: number;
                            deleted_member_days: number;
                            plan: string;
                            bounds: {
                                audit_log_days: {
                                    min: number;
                                    max: number;
                                    /** @description Whether null (keep forever) is allowed */
                                    forever: boolean;
                                };
                                export_files_days: {
                                    min: number;
                                    max: number;
                                    /** @description Whether null (keep forever) is allowed */
                                    forever: boolean;
                                };
                                deleted_member_days: {
                                    min: number;
                                    max: number;
                                    /** @description Whether null (keep forever) is allowed */
                                    forever: boolean;
                                };
                            };
                            in_force: {
                                audit_log_days: {
                                    /** @description The limit in force: the setting, never above the plan's maximum; null = forever */
                                    days: number | null;
                                    /** Format: date-time */
                                    effective_from: string;
                                    /**
                                     * Format: date-time
                                     * @description A lowered or new limit counts from effective_from: until this moment only days_before applies (null: nothing is deleted)
                                     */
                                    grace_until: string;
                                    days_before: number | null;
                                };
                                export_files_days: {
                                    /** @description The limit in force: the setting, never above the plan's maximum; null = forever */
                                    days: number | null;
                                    /** Format: date-time */
                                    effective_from: string;
                                    /**
                                     * Format: date-time
                                     * @description A lowered or new limit counts from effective_from: until this moment only days_before applies (null: nothing is deleted)
                                     */
                                    grace_until: string;
                                    days_before: number | null;
                                };
                                deleted_member_days: {
                                    /** @description The limit in force: the setting, never above the plan's maximum; null = forever */
                                    days: number | null;
                                    /** Format: date-time */
                                    effective_from: string;
                                    /**
                                     * Format: date-time
                                     * @description A lowered or new limit counts from effective_from: until this moment only days_before applies (null: nothing is deleted)
                                     */
                                    grace_until: string;
                                    days_before: number | null;
                                };
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Change retention (account:update). Absent fields stay. Outside the plan's bounds: 422 out_of_range naming the field and the range */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description Days the audit log is kept: 1 to the plan's maximum (Free 30, Pro 365, Team 1095); null = forever (Enterprise) */
                        audit_log_days?: number | null;
                        /** @description Days export files are kept: 1–90 */
                        export_files_days?: number | null;
                        /** @description Days after which the personal data of people who left the account is anonymised: 1–365 */
                        deleted_member_days?: number | null;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @description null = keep forever (Enterprise) */
                            audit_log_days: number | null;
                            export_files_days: number;
                            deleted_member_days: number;
                            plan: string;
                            bounds: {
                                audit_log_days: {
                                    min: number;
                                    max: number;
                                    /** @description Whether null (keep forever) is allowed */
                                    forever: boolean;
                                };
                                export_files_days: {
                                    min: number;
                                    max: number;
                                    /** @description Whether null (keep forever) is allowed */
                                    forever: boolean;
                                };
                                deleted_member_days: {
                                    min: number;
                                    max: number;
                                    /** @description Whether null (keep forever) is allowed */
                                    forever: boolean;
                                };
                            };
                            in_force: {
                                audit_log_days: {
                                    /** @description The limit in force: the setting, never above the plan's maximum; null = forever */
                                    days: number | null;
                                    /** Format: date-time */
                                    effective_from: string;
                                    /**
                                     * Format: date-time
                                     * @description A lowered or new limit counts from effective_from: until this moment only days_before applies (null: nothing is deleted)
                                     */
                                    grace_until: string;
                                    days_before: number | null;
                                };
                                export_files_days: {
                                    /** @description The limit in force: the setting, never above the plan's maximum; null = forever */
                                    days: number | null;
                                    /** Format: date-time */
                                    effective_from: string;
                                    /**
                                     * Format: date-time
                                     * @description A lowered or new limit counts from effective_from: until this moment only days_before applies (null: nothing is deleted)
                                     */
                                    grace_until: string;
                                    days_before: number | null;
                                };
                                deleted_member_days: {
                                    /** @description The limit in force: the setting, never above the plan's maximum; null = forever */
                                    days: number | null;
                                    /** Format: date-time */
                                    effective_from: string;
                                    /**
                                     * Format: date-time
                                     * @description A lowered or new limit counts from effective_from: until this moment only days_before applies (null: nothing is deleted)
                                     */
                                    grace_until: string;
                                    days_before: number | null;
                                };
                            };
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/exports": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's exports, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                type: string;
                                format: string;
                                status: "queued" | "running" | "succeeded" | "failed";
                                /** @description Rows written / rows to write, in percent */
                                progress: number;
                                /** @description Rows written so far (all of them once succeeded) */
                                rows: number;
                                total_rows: number;
                                /** Format: date-time */
                                from: string | null;
                                /** Format: date-time */
                                to: string | null;
                                filters: {
                                    [key: string]: string;
                                };
                                /** @description A signed link for the caller, valid 24 hours; null until ready and once deleted */
                                download_url: string | null;
                                /**
                                 * Format: date-time
                                 * @description When the file is deleted
                                 */
                                expires_at: string | null;
                                bytes: number | null;
                                error: string | null;
                                schedule_id: string | null;
                                /** @description The member who asked (for an API key: its creator) */
                                requested_by: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                finished_at: string | null;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Ask for an export (data:export); the job loop writes it, GET it for progress and its link */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description members, teams, roles, invitations, audit_log, invoices, sessions, or all (a ZIP) */
                        type: string;
                        /** @description csv, json (JSON Lines) or pdf (not for all) */
                        format: string;
                        /** @description Rows dated at or after this instant (ISO 8601) */
                        from?: string;
                        /** @description Rows dated before this instant (ISO 8601) */
                        to?: string;
                        /** @description Per type: members {status, role_id, team_id, q}; invitations {status, role_id, q}; audit_log {action, actor_id, target_id}; invoices {status}; sessions {user_id}; teams {q} */
                        filters?: {
                            [key: string]: string;
                        };
                    };
                };
            };
            responses: {
                /** @description Default Response */
                202: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            /** @enum {string} */
                            status: "queued";
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/exports/{export_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One export: status, progress and, when ready, a download link valid 24 hours */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    export_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            type: string;
                            format: string;
                            status: "queued" | "running" | "succeeded" | "failed";
                            /** @description Rows written / rows to write, in percent */
                            progress: number;
                            /** @description Rows written so far (all of them once succeeded) */
                            rows: number;
                            total_rows: number;
                            /** Format: date-time */
                            from: string | null;
                            /** Format: date-time */
                            to: string | null;
                            filters: {
                                [key: string]: string;
                            };
                            /** @description A signed link for the caller, valid 24 hours; null until ready and once deleted */
                            download_url: string | null;
                            /**
                             * Format: date-time
                             * @description When the file is deleted
                             */
                            expires_at: string | null;
                            bytes: number | null;
                            error: string | null;
                            schedule_id: string | null;
                            /** @description The member who asked (for an API key: its creator) */
                            requested_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            finished_at: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/export-files/{export_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An export's file through its signed link (download_url); every download is audited */
        get: {
            parameters: {
                query: {
                    user: string;
                    expires: string;
                    signature: string;
                };
                header?: never;
                path: {
                    export_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/csv": string;
                        "application/x-ndjson": string;
                        "application/pdf": string;
                        "application/zip": string;
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/csv": components["schemas"]["Problem"];
                        "application/x-ndjson": components["schemas"]["Problem"];
                        "application/pdf": components["schemas"]["Problem"];
                        "application/zip": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/csv": components["schemas"]["Problem"];
                        "application/x-ndjson": components["schemas"]["Problem"];
                        "application/pdf": components["schemas"]["Problem"];
                        "application/zip": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "text/csv": components["schemas"]["Problem"];
                        "application/x-ndjson": components["schemas"]["Problem"];
                        "application/pdf": components["schemas"]["Problem"];
                        "application/zip": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/export-schedules": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The account's export schedules, newest first */
        get: {
            parameters: {
                query?: {
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                id: string;
                                type: string;
                                format: string;
                                filters: {
                                    [key: string]: string;
                                };
                                frequency: "daily" | "weekly" | "monthly";
                                recipients: string[];
                                paused: boolean;
                                /** Format: date-time */
                                next_run_at: string;
                                /** Format: date-time */
                                last_run_at: string | null;
                                created_by: string;
                                /** Format: date-time */
                                created_at: string;
                                /** Format: date-time */
                                updated_at: string;
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Schedule an export (data:export): each run mails the recipients holding data:export a link */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description members, teams, roles, invitations, audit_log, invoices, sessions, or all (a ZIP) */
                        type: string;
                        /** @description csv, json (JSON Lines) or pdf (not for all) */
                        format: string;
                        /** @description Per type: members {status, role_id, team_id, q}; invitations {status, role_id, q}; audit_log {action, actor_id, target_id}; invoices {status}; sessions {user_id}; teams {q} */
                        filters?: {
                            [key: string]: string;
                        };
                        /** @description daily, weekly or monthly */
                        frequency: string;
                        /** @description User ids of members; each run mails those who hold data:export then */
                        recipients: string[];
                        paused?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            type: string;
                            format: string;
                            filters: {
                                [key: string]: string;
                            };
                            frequency: "daily" | "weekly" | "monthly";
                            recipients: string[];
                            paused: boolean;
                            /** Format: date-time */
                            next_run_at: string;
                            /** Format: date-time */
                            last_run_at: string | null;
                            created_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/export-schedules/{schedule_id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One export schedule */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    schedule_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            type: string;
                            format: string;
                            filters: {
                                [key: string]: string;
                            };
                            frequency: "daily" | "weekly" | "monthly";
                            recipients: string[];
                            paused: boolean;
                            /** Format: date-time */
                            next_run_at: string;
                            /** Format: date-time */
                            last_run_at: string | null;
                            created_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        /** Delete a schedule (its past exports stay until their files expire) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    schedule_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                204: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        /** Change a schedule, or pause ({paused: true}) and resume it */
        patch: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                    schedule_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description members, teams, roles, invitations, audit_log, invoices, sessions, or all (a ZIP) */
                        type?: string;
                        /** @description csv, json (JSON Lines) or pdf (not for all) */
                        format?: string;
                        /** @description Per type: members {status, role_id, team_id, q}; invitations {status, role_id, q}; audit_log {action, actor_id, target_id}; invoices {status}; sessions {user_id}; teams {q} */
                        filters?: {
                            [key: string]: string;
                        };
                        /** @description daily, weekly or monthly */
                        frequency?: string;
                        /** @description User ids of members; each run mails those who hold data:export then */
                        recipients?: string[];
                        paused?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            id: string;
                            type: string;
                            format: string;
                            filters: {
                                [key: string]: string;
                            };
                            frequency: "daily" | "weekly" | "monthly";
                            recipients: string[];
                            paused: boolean;
                            /** Format: date-time */
                            next_run_at: string;
                            /** Format: date-time */
                            last_run_at: string | null;
                            created_by: string;
                            /** Format: date-time */
                            created_at: string;
                            /** Format: date-time */
                            updated_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        trace?: never;
    };
    "/api/v1/accounts/{account_id}/closure": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whether the account is scheduled for deletion (account:read; every member): `{status: "none"}` when not */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "none";
                        } | {
                            /** @enum {string} */
                            status: "scheduled";
                            /** Format: date-time */
                            delete_at: string;
                            /** @description The user who scheduled it */
                            requested_by: string;
                            /** Format: date-time */
                            requested_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        /** Schedule the account's deletion in 30 days (account:close; fresh authentication; the account's exact name). Ends the subscription at its period's end and mails every Root and Admin a cancel link */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** @description The account's name, exactly */
                        confirm_name: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "none";
                        } | {
                            /** @enum {string} */
                            status: "scheduled";
                            /** Format: date-time */
                            delete_at: string;
                            /** @description The user who scheduled it */
                            requested_by: string;
                            /** Format: date-time */
                            requested_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                409: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        /** Cancel the scheduled closure during the grace period (account:close) */
        delete: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    account_id: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "none";
                        } | {
                            /** @enum {string} */
                            status: "scheduled";
                            /** Format: date-time */
                            delete_at: string;
                            /** @description The user who scheduled it */
                            requested_by: string;
                            /** Format: date-time */
                            requested_at: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/account-closures/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a scheduled closure with the link mailed to its Roots and Admins (single use) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        token: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            /** @enum {string} */
                            status: "cancelled";
                            account_id: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                429: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/managed-accounts": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The accounts whose members the caller may read (members:read, active membership, allowed from this IP), by name */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                account_id: string;
                                account_name: string;
                                role: {
                                    id: string;
                                    key: string;
                                    name: string;
                                };
                                /** @description The caller holds members:invite there */
                                can_invite: boolean;
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/me/managed-members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One row per person across every account whose members the caller may read, by name; `accounts` lists only those accounts */
        get: {
            parameters: {
                query?: {
                    /** @description Only people in this account (404 outside it, 403 without members:read) */
                    account_id?: string;
                    /** @description Part of the name or email address */
                    q?: string;
                    /** @description People with a membership of this status (in `account_id` when given) */
                    status?: "active" | "suspended" | "deactivated";
                    limit?: number;
                    cursor?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                user_id: string;
                                /** @description First and last name; empty when the person has set neither */
                                name: string;
                                first_name: string;
                                last_name: string;
                                email: string;
                                avatar_url: string | null;
                                avatar_thumb_url: string | null;
                                /** @description Only the memberships in accounts whose members the caller may read */
                                accounts: {
                                    account_id: string;
                                    account_name: string;
                                    role: {
                                        id: string;
                                        key: string;
                                        name: string;
                                    };
                                    /** @description active | suspended | deactivated */
                                    status: string;
                                    /** Format: date-time */
                                    last_login_at: string | null;
                                    /** Format: date-time */
                                    joined_at: string;
                                }[];
                            }[];
                            next_cursor: string | null;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/invitations": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Invite addresses (≤ 50) to several accounts (≤ 20), a role each; per-address, per-account results. Each account is its own bulk invitation (permission, grant, seat limit, transaction); 201 when at least one invitation was created, else 200 */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        emails: string[];
                        invites: {
                            account_id: string;
                            role_id: string;
                            team_ids?: string[];
                        }[];
                        first_name?: string;
                        last_name?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                email: string;
                                account_id: string;
                                invitation?: {
                                    id: string;
                                    email: string;
                                    first_name: string;
                                    last_name: string;
                                    role: {
                                        id: string;
                                        key: string;
                                        name: string;
                                    };
                                    role_id: string;
                                    team_ids: string[];
                                    status: string;
                                    /** Format: date-time */
                                    expires_at: string;
                                    invited_by: {
                                        user_id: string | null;
                                        name: string;
                                    };
                                    /** Format: date-time */
                                    created_at: string;
                                    /** Format: date-time */
                                    last_sent_at: string;
                                    send_count: number;
                                };
                                error?: {
                                    code: string;
                                    detail: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description Default Response */
                201: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            data: {
                                email: string;
                                account_id: string;
                                invitation?: {
                                    id: string;
                                    email: string;
                                    first_name: string;
                                    last_name: string;
                                    role: {
                                        id: string;
                                        key: string;
                                        name: string;
                                    };
                                    role_id: string;
                                    team_ids: string[];
                                    status: string;
                                    /** Format: date-time */
                                    expires_at: string;
                                    invited_by: {
                                        user_id: string | null;
                                        name: string;
                                    };
                                    /** Format: date-time */
                                    created_at: string;
                                    /** Format: date-time */
                                    last_sent_at: string;
                                    send_count: number;
                                };
                                error?: {
                                    code: string;
                                    detail: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/oidc/interactions/{uid}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** An authorization request waiting for the user (the /authorize/{uid} page) */
        get: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    uid: string;
                };
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            uid: string;
                            client: {
                                client_id: string;
                                name: string;
                                logo_uri: string | null;
                                party: "first" | "third";
                            };
                            scopes: string[];
                            needs_account: boolean;
                            consent_required: boolean;
                            signed_in: boolean;
                            accounts: {
                                account_id: string;
                                account_name: string;
                                role: {
                                    key: string;
                                    name: string;
                                };
                            }[];
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/api/v1/oidc/interactions/{uid}/complete": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Approve or deny an authorization request; answers where to send the browser */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path: {
                    uid: string;
                };
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        approve: boolean;
                        account_id?: string;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            redirect_to: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                403: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                404: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
                /** @description RFC 9457 problem details */
                422: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dev/clock": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            now: string;
                        };
                    };
                };
            };
        };
        put?: never;
        /** Set the server clock: {now} or {advance_seconds}; {reset: true} returns to real time */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody: {
                content: {
                    "application/json": {
                        /** Format: date-time */
                        now?: string;
                        advance_seconds?: number;
                        reset?: boolean;
                    };
                };
            };
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": {
                            now: string;
                        };
                    };
                };
                /** @description RFC 9457 problem details */
                400: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content: {
                        "application/json": components["schemas"]["Problem"];
                    };
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dev/mail": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The development outbox: the mail queue, newest first (status queued, sending, sent or failed); a browser (Accept: text/html) gets a page */
        get: {
            parameters: {
                query?: {
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dev/sms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The development SMS outbox, newest first */
        get: {
            parameters: {
                query?: {
                    to?: string;
                };
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/dev/jobs/run": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Run every job of the job loop now, each on what is due (renewals, payment retries, purge, reset requests, mail) */
        post: {
            parameters: {
                query?: never;
                header?: never;
                path?: never;
                cookie?: never;
            };
            requestBody?: never;
            responses: {
                /** @description Default Response */
                200: {
                    headers: {
                        [name: string]: unknown;
                    };
                    content?: never;
                };
            };
        };
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description RFC 9457 problem details */
        Problem: {
            type: string;
            title: string;
            status: number;
            detail: string;
            code: string;
            errors?: {
                path: string;
                message: string;
                code: string;
            }[];
            request_id?: string;
        };
        Me: {
            id: string;
            email: string;
            email_verified: boolean;
            username: string | null;
            first_name: string;
            last_name: string;
            full_name: string;
            mobile: string | null;
            mobile_verified: boolean;
            timezone: string;
            locale: string;
            /** @description The uploaded avatar, 256×256 (PUT /me/avatar) */
            avatar_url: string | null;
            /** @description The same, 64×64 */
            avatar_thumb_url: string | null;
            mfa_enabled: boolean;
            /** Format: date-time */
            created_at: string;
            /** Format: date-time */
            updated_at: string;
            /** Format: date-time */
            last_login_at: string | null;
            memberships: {
                account_id: string;
                account_name: string;
                role: {
                    id: string;
                    key: string;
                    name: string;
                    description: string;
                };
            }[];
        };
        PasswordPolicy: {
            min_length: number;
            max_length: number;
            require_upper: boolean;
            require_lower: boolean;
            require_digit: boolean;
            require_special: boolean;
            history: number;
            expiry_days: number | null;
            disallow_personal_info: boolean;
            disallow_common: boolean;
            /** @description The lowest zxcvbn strength score (0–4) a password must reach; 0 = not checked */
            min_strength: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;

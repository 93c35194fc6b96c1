import type { Executor } from "../db/database.js";
import type { PaymentMethodsTable } from "../db/tables.js";
import type { PaymentMethodType, PaymentProvider, TokenizedMethod } from "./payment-provider.js";

export type PaymentMethodRecord = {
  id: string;
  accountId: string;
  type: PaymentMethodType;
  provider: string;
  providerRef: string;
  brand: string | null;
  bankName: string | null;
  last4: string;
  expMonth: number | null;
  expYear: number | null;
  isDefault: boolean;
  createdAt: string;
};

const toMethod = (row: PaymentMethodsTable): PaymentMethodRecord => ({
  id: row.id,
  accountId: row.account_id,
  type: row.type as PaymentMethodType,
  provider: row.provider,
  providerRef: row.provider_ref,
  brand: row.brand,
  bankName: row.bank_name,
  last4: row.last4,
  expMonth: row.exp_month === null ? null : Number(row.exp_month),
  expYear: row.exp_year === null ? null : Number(row.exp_year),
  isDefault: Number(row.is_default) === 1,
  createdAt: row.created_at,
});

export function createPaymentMethodsRepository() {
  return {
    /** The default first, then newest first. */
    async list(db: Executor, accountId: string): Promise<PaymentMethodRecord[]> {
      const rows = await db
        .selectFrom("payment_methods")
        .selectAll()
        .where("account_id", "=", accountId)
        .orderBy("is_default", "desc")
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .execute();
      return rows.map(toMethod);
    },
    async find(db: Executor, accountId: string, id: string): Promise<PaymentMethodRecord | undefined> {
      const row = await db
        .selectFrom("payment_methods")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .executeTakeFirst();
      return row && toMethod(row);
    },
    async findDefault(db: Executor, accountId: string): Promise<PaymentMethodRecord | undefined> {
      const row = await db
        .selectFrom("payment_methods")
        .selectAll()
        .where("account_id", "=", accountId)
        .where("is_default", "=", 1)
        .executeTakeFirst();
      return row && toMethod(row);
    },
    async count(db: Executor, accountId: string): Promise<number> {
      const row = await db
        .selectFrom("payment_methods")
        .select((eb) => eb.fn.countAll<number | string>().as("n"))
        .where("account_id", "=", accountId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async insert(
      db: Executor,
      input: {
        id: string;
        accountId: string;
        type: PaymentMethodType;
        provider: string;
        method: TokenizedMethod;
        now: string;
      },
    ) {
      await db
        .insertInto("payment_methods")
        .values({
          id: input.id,
          account_id: input.accountId,
          type: input.type,
          provider: input.provider,
          provider_ref: input.method.provider_ref,
          brand: input.method.brand ?? null,
          bank_name: input.method.bank_name ?? null,
          last4: input.method.last4,
          exp_month: input.method.exp_month ?? null,
          exp_year: input.method.exp_year ?? null,
          is_default: 0,
          created_at: input.now,
        })
        .execute();
    },
    /** Makes `id` the one default of the account. */
    async setDefault(db: Executor, accountId: string, id: string) {
      await db
        .updateTable("payment_methods")
        .set({ is_default: 0 })
        .where("account_id", "=", accountId)
        .where("id", "!=", id)
        .where("is_default", "=", 1)
        .execute();
      await db
        .updateTable("payment_methods")
        .set({ is_default: 1 })
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },
    async delete(db: Executor, accountId: string, id: string) {
      await db
        .deleteFrom("payment_methods")
        .where("account_id", "=", accountId)
        .where("id", "=", id)
        .execute();
    },
    /** The newest remaining method, to become the default when the default is removed. */
    async newest(db: Executor, accountId: string): Promise<PaymentMethodRecord | undefined> {
      const row = await db
        .selectFrom("payment_methods")
        .selectAll()
        .where("account_id", "=", accountId)
        .orderBy("created_at", "desc")
        .orderBy("id", "desc")
        .executeTakeFirst();
      return row && toMethod(row);
    },
  };
}

export type PaymentMethodsRepository = ReturnType<typeof createPaymentMethodsRepository>;

/** The API shape of a payment method (the billing overview shows the default one the same way). */
export const paymentMethodView = (m: PaymentMethodRecord, provider: PaymentProvider) => ({
  id: m.id,
  type: m.type,
  brand: m.brand,
  bank_name: m.bankName,
  last4: m.last4,
  exp_month: m.expMonth,
  exp_year: m.expYear,
  default: m.isDefault,
  provider: m.provider,
  provider_label: m.provider === provider.name ? provider.label : m.provider,
  created_at: m.createdAt,
});

export type PaymentMethodView = ReturnType<typeof paymentMethodView>;

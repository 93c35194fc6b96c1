import { AuthLayout } from "../../components/auth-layout";
import { Link } from "../../router";

export function NotFoundPage() {
  return (
    <AuthLayout title="Page not found">
      <p>There is nothing at this address. It may have moved, or the link may be mistyped.</p>
      <p>
        <Link to="/" className="button">
          Go to Gatehouse
        </Link>
      </p>
    </AuthLayout>
  );
}

//! Bearer-token authentication: every API route takes an [`AuthenticatedUser`].

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use super::AppState;
use crate::store::tokens;

/// The user whose token signed the request.
#[derive(Debug, Clone, Copy)]
pub struct AuthenticatedUser {
    pub id: i64,
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for AuthenticatedUser {
    type Error = ();

    async fn from_request(request: &'r Request<'_>) -> Outcome<Self, ()> {
        let Some(token) = request
            .headers()
            .get_one("Authorization")
            .and_then(|value| value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")))
            .map(|token| token.trim().to_owned())
            .filter(|token| !token.is_empty())
        else {
            return Outcome::Error((Status::Unauthorized, ()));
        };
        let Some(state) = request.rocket().state::<AppState>() else {
            return Outcome::Error((Status::InternalServerError, ()));
        };
        match state.store.run(move |connection| tokens::authenticate(connection, &token)).await {
            Ok(Some(id)) => Outcome::Success(AuthenticatedUser { id }),
            Ok(None) => Outcome::Error((Status::Unauthorized, ())),
            Err(error) => {
                tracing::error!(%error, "checking an API token failed");
                Outcome::Error((Status::InternalServerError, ()))
            }
        }
    }
}

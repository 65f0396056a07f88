//! The store in a `StoreChain`: it answers lookups, and a write or a removal goes on to the
//! next store.

use std::sync::Arc;

use auth_core::{
    Authentication, CredentialStore, HostKey, MemoryStore, Secret, StoreChain, StoreError,
    UrlTarget,
};

use super::store;

#[test]
fn writes_go_to_the_next_store_and_removals_leave_the_variable() {
    let env = Arc::new(store(&[("AUTH_TOKEN_example_com", "from-env")]));
    let memory = Arc::new(MemoryStore::new());
    let chain = StoreChain::new(vec![env.clone(), memory.clone()]);
    let key = HostKey::parse("example.com").unwrap();

    let saved = chain
        .set(&key, &Authentication::BearerToken(Secret::from("stored")))
        .unwrap();
    assert_eq!(saved.store.name(), "memory");
    assert_eq!(
        saved.skipped,
        [(
            "the environment variables".to_owned(),
            "the env store (environment variables) is read-only".to_owned()
        )]
    );
    assert!(matches!(
        env.set(&key, &Authentication::BearerToken(Secret::from("x"))),
        Err(StoreError::ReadOnly { .. })
    ));

    // At the front, the variable wins over the stored entry under the same key.
    let target = UrlTarget::parse("https://example.com/").unwrap();
    let found = chain.find(&target).unwrap().unwrap();
    assert_eq!(found.store.name(), "env");
    assert_eq!(
        found.credential.auth,
        Authentication::BearerToken(Secret::from("from-env"))
    );

    // Removing takes the stored entry; the variable stays, and the chain still finds it.
    let removed = chain.remove(&key).unwrap();
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].name(), "memory");
    assert_eq!(chain.get(&key).unwrap().unwrap().store.name(), "env");
    assert_eq!(env.location(), "environment variables");
    assert_eq!(env.describe(), "the environment variables");
}

#[test]
fn a_more_specific_key_in_a_later_store_still_wins() {
    let env = Arc::new(store(&[("AUTH_TOKEN__example_com", "wild")]));
    let memory = Arc::new(MemoryStore::new());
    memory
        .set(
            &HostKey::parse("repo.example.com").unwrap(),
            &Authentication::BearerToken(Secret::from("exact")),
        )
        .unwrap();
    let chain = StoreChain::new(vec![env, memory]);
    let found = chain
        .find(&UrlTarget::parse("https://repo.example.com/").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(found.store.name(), "memory");
}

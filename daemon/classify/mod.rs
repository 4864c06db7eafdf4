//! Procedure classification (issue: procedure packs). Not built yet.

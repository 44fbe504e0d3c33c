//! Enums stored and passed as one word (statuses, channels, languages):
//! the word, `Display`, `FromStr` and the list of all of them, from one
//! table per enum.

/// Declares `pub enum $name` whose variants are written as the given words.
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident = $word:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every one, in the order they are declared.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The word, as stored and as the SQL functions take it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = ();
            fn from_str(word: &str) -> std::result::Result<Self, ()> {
                match word {
                    $($word => Ok($name::$variant),)+
                    _ => Err(()),
                }
            }
        }
    };
}

pub(crate) use words;

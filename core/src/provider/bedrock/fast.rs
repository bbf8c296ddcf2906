//! A ConverseStream event payload read in one borrowing pass ([`Reader`]), into the same [`ConverseMessage`] the
//! lenient serde reading builds; a payload of any other shape is left to serde ([`Unusual`]).

use super::{ContentBlock, ConverseMessage, TokenUsage};
use crate::wire::json_borrow::{seen, Fast, Reader, Unusual};

/// The payload, or [`Unusual`] when serde must read it.
pub(super) fn message(data: &[u8]) -> Fast<ConverseMessage<'_>> {
    Reader::document(data, |r| {
        let mut out = ConverseMessage::default();
        let mut mask = 0;
        let read = r.object(|r, key| match key {
            b"stopReason" => {
                seen(&mut mask, 1)?;
                // A number is a name for serde (kept in decimal): left to it.
                out.stop_reason = r.text()?;
                Ok(())
            }
            b"usage" => {
                seen(&mut mask, 2)?;
                out.usage = usage(r)?;
                Ok(())
            }
            b"delta" => {
                seen(&mut mask, 4)?;
                let mut d = ContentBlock::default();
                if delta(r, &mut d)? {
                    out.delta = Some(d);
                }
                Ok(())
            }
            b"contentBlockIndex" => {
                seen(&mut mask, 8)?;
                out.content_block_index = r.count()?.map(|n| usize::try_from(n).unwrap_or(usize::MAX));
                Ok(())
            }
            // Whole answers, tool starts and exception messages are rare in a stream: serde reads them.
            b"output" | b"start" | b"message" => {
                seen(
                    &mut mask,
                    match key {
                        b"output" => 16,
                        b"start" => 32,
                        _ => 64,
                    },
                )?;
                if r.null()? {
                    Ok(())
                } else {
                    Err(Unusual)
                }
            }
            _ => r.skip(),
        })?;
        // A bare `null` is no payload (serde's struct reading fails on it).
        if read {
            Ok(out)
        } else {
            Err(Unusual)
        }
    })
}

fn delta<'a>(r: &mut Reader<'a>, d: &mut ContentBlock<'a>) -> Fast<bool> {
    let mut mask = 0;
    r.object(|r, key| match key {
        b"text" => {
            seen(&mut mask, 1)?;
            d.text = r.text()?;
            Ok(())
        }
        // Tool input and reasoning are kept as JSON values: serde builds them.
        b"toolUse" | b"reasoningContent" => {
            seen(&mut mask, if key == b"toolUse" { 2 } else { 4 })?;
            if r.null()? {
                Ok(())
            } else {
                Err(Unusual)
            }
        }
        _ => r.skip(),
    })
}

fn usage(r: &mut Reader<'_>) -> Fast<Option<TokenUsage>> {
    let mut u = TokenUsage::default();
    let mut mask = 0;
    let read = r.object(|r, key| match key {
        b"inputTokens" => {
            seen(&mut mask, 1)?;
            u.input_tokens = r.count()?;
            Ok(())
        }
        b"outputTokens" => {
            seen(&mut mask, 2)?;
            u.output_tokens = r.count()?;
            Ok(())
        }
        b"totalTokens" => {
            seen(&mut mask, 4)?;
            u.total_tokens = r.count()?;
            Ok(())
        }
        // Each pair is one field and its alias: both at once is a repeated field.
        b"cacheReadInputTokens" | b"cacheReadInputTokenCount" => {
            seen(&mut mask, 8)?;
            u.cache_read_input_tokens = r.count()?;
            Ok(())
        }
        b"cacheWriteInputTokens" | b"cacheWriteInputTokenCount" => {
            seen(&mut mask, 16)?;
            u.cache_write_input_tokens = r.count()?;
            Ok(())
        }
        _ => r.skip(),
    })?;
    Ok(read.then_some(u))
}

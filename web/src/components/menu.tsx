import { type KeyboardEvent, type ReactNode, useEffect, useId, useRef, useState } from "react";

export type MenuItem = {
  key: string;
  label: ReactNode;
  onSelect: () => void;
  testId?: string;
  danger?: boolean;
  /** Makes the item a menuitemradio (the account switcher's current account). */
  checked?: boolean;
  /** Draws a line above the item. */
  separated?: boolean;
  attributes?: Record<`data-${string}`, string>;
};

type Props = {
  /** The button's visible content. */
  children: ReactNode;
  /** The button's accessible name when its content is an icon or too terse. */
  label?: string;
  items: MenuItem[];
  testId?: string;
  align?: "start" | "end";
  buttonClassName?: string;
};

/**
 * A menu button (WAI-ARIA menu pattern): arrows move, Escape closes, focus returns to the button
 * before an item runs, so a dialog the item opens gives focus back to the button when it closes.
 */
export function Menu({ children, label, items, testId, align = "end", buttonClassName }: Props) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const wrapperRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelector<HTMLElement>("[role^='menuitem']")?.focus();
    const onPointerDown = (event: PointerEvent) => {
      if (!wrapperRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open]);

  function close() {
    setOpen(false);
    buttonRef.current?.focus();
  }

  function select(item: MenuItem) {
    close();
    item.onSelect();
  }

  function onMenuKeyDown(event: KeyboardEvent<HTMLDivElement>) {
    const entries = [...(menuRef.current?.querySelectorAll<HTMLElement>("[role^='menuitem']") ?? [])];
    const index = entries.indexOf(document.activeElement as HTMLElement);
    const focusAt = (next: number) => entries[(next + entries.length) % entries.length]?.focus();
    switch (event.key) {
      case "ArrowDown":
        focusAt(index + 1);
        break;
      case "ArrowUp":
        focusAt(index - 1);
        break;
      case "Home":
        focusAt(0);
        break;
      case "End":
        focusAt(entries.length - 1);
        break;
      case "Escape":
        close();
        break;
      case "Tab":
        setOpen(false);
        return;
      default:
        return;
    }
    event.preventDefault();
    event.stopPropagation();
  }

  function onButtonKeyDown(event: KeyboardEvent<HTMLButtonElement>) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      setOpen(true);
    }
  }

  return (
    <div className="menu" ref={wrapperRef}>
      <button
        ref={buttonRef}
        type="button"
        className={buttonClassName ?? "button button-secondary button-small"}
        aria-haspopup="menu"
        aria-expanded={open}
        aria-controls={open ? menuId : undefined}
        aria-label={label}
        onClick={() => setOpen((current) => !current)}
        onKeyDown={onButtonKeyDown}
        data-testid={testId}
      >
        {children}
      </button>
      {open ? (
        <div
          ref={menuRef}
          id={menuId}
          role="menu"
          aria-label={label}
          className={`menu-popup menu-${align}`}
          onKeyDown={onMenuKeyDown}
          tabIndex={-1}
        >
          {items.map((item) => {
            const shared = {
              type: "button" as const,
              tabIndex: -1,
              className: `menu-item${item.danger ? " menu-item-danger" : ""}${item.separated ? " menu-item-separated" : ""}`,
              onClick: () => select(item),
              "data-testid": item.testId,
              ...item.attributes,
            };
            return item.checked === undefined ? (
              <button key={item.key} role="menuitem" {...shared}>
                {item.label}
              </button>
            ) : (
              <button key={item.key} role="menuitemradio" aria-checked={item.checked} {...shared}>
                <span className="menu-check" aria-hidden="true">
                  {item.checked ? "✓" : ""}
                </span>
                {item.label}
              </button>
            );
          })}
        </div>
      ) : null}
    </div>
  );
}

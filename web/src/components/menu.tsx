import {
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useLayoutEffect,
  useRef,
  useState,
} from "react";

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
  /** Shown above the items, outside the menu role (the avatar menu's name and email). */
  heading?: ReactNode;
  /**
   * Places the popup against the viewport (fixed) instead of below the button in the flow, so a
   * scrolling container around the button (a wide table) cannot clip it. It opens upwards when
   * there is no room below.
   */
  floating?: boolean;
};

/** Keeps a floating popup this far from the viewport's edges, and from its button. */
const EDGE = 8;
const GAP = 4;

function placeFloating(button: HTMLElement, popup: HTMLElement, align: "start" | "end") {
  const rect = button.getBoundingClientRect();
  const viewportWidth = document.documentElement.clientWidth;
  const viewportHeight = document.documentElement.clientHeight;
  const { offsetWidth: width, offsetHeight: height } = popup;
  const below = rect.bottom + GAP;
  const above = rect.top - GAP - height;
  const top = below + height > viewportHeight - EDGE && above >= EDGE ? above : below;
  const left = align === "end" ? rect.right - width : rect.left;
  popup.style.position = "fixed";
  popup.style.top = `${top}px`;
  popup.style.left = `${Math.max(EDGE, Math.min(left, viewportWidth - width - EDGE))}px`;
  popup.style.right = "auto";
}

/**
 * A menu button (WAI-ARIA menu pattern): arrows move, Escape closes, focus returns to the button
 * before an item runs, so a dialog the item opens gives focus back to the button when it closes.
 */
export function Menu({
  children,
  label,
  items,
  testId,
  align = "end",
  buttonClassName,
  heading,
  floating = false,
}: Props) {
  const [open, setOpen] = useState(false);
  const menuId = useId();
  const buttonRef = useRef<HTMLButtonElement>(null);
  const menuRef = useRef<HTMLDivElement>(null);
  const wrapperRef = useRef<HTMLDivElement>(null);

  useLayoutEffect(() => {
    const button = buttonRef.current;
    const popup = menuRef.current;
    if (!open || !floating || !button || !popup) return;
    const place = () => placeFloating(button, popup, align);
    place();
    // Follows the button when the page or the table scrolls, or the window changes size.
    window.addEventListener("scroll", place, true);
    window.addEventListener("resize", place);
    return () => {
      window.removeEventListener("scroll", place, true);
      window.removeEventListener("resize", place);
    };
  }, [open, floating, align]);

  useEffect(() => {
    if (!open) return;
    menuRef.current?.querySelector<HTMLElement>("[role^='menuitem']")?.focus({ preventScroll: floating });
    const onPointerDown = (event: PointerEvent) => {
      if (!wrapperRef.current?.contains(event.target as Node)) setOpen(false);
    };
    document.addEventListener("pointerdown", onPointerDown);
    return () => document.removeEventListener("pointerdown", onPointerDown);
  }, [open, floating]);

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

  function renderItem(item: MenuItem) {
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
      {open && heading ? (
        <div className={`menu-popup menu-${align}`}>
          <div className="menu-heading">{heading}</div>
          <div
            ref={menuRef}
            id={menuId}
            role="menu"
            aria-label={label}
            className="menu-items"
            onKeyDown={onMenuKeyDown}
            tabIndex={-1}
          >
            {items.map(renderItem)}
          </div>
        </div>
      ) : open ? (
        <div
          ref={menuRef}
          id={menuId}
          role="menu"
          aria-label={label}
          className={`menu-popup menu-${align}`}
          onKeyDown={onMenuKeyDown}
          tabIndex={-1}
        >
          {items.map(renderItem)}
        </div>
      ) : null}
    </div>
  );
}

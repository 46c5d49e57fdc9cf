import { css } from 'lit';

/** The gallery's page: a sticky bar of filters over a grid of thumbnails, two columns on a phone. */
export const galleryStyles = css`
  .top {
    display: grid;
    gap: 8px;
    padding: 8px max(12px, env(safe-area-inset-left)) 8px max(12px, env(safe-area-inset-right));
    background: color-mix(in srgb, var(--easel-bg) 92%, transparent);
    backdrop-filter: blur(6px);
    border-bottom: 1px solid var(--easel-line-soft);
  }
  .title {
    display: flex;
    align-items: center;
    gap: 12px;
  }
  h1 {
    font-size: 1.1rem;
    margin: 0;
    flex: 1;
    white-space: nowrap;
  }
  .link {
    color: var(--easel-info, #9ecbff);
    padding: 10px 4px;
  }
  .filters {
    display: grid;
    grid-template-columns: 1fr 1fr;
    gap: 8px;
    align-items: center;
  }
  .filters .q {
    grid-column: 1 / -1;
  }
  /* On a phone the filters scroll away with the page: kept on screen they would take a quarter of it. */
  @media (min-width: 760px) {
    .top {
      position: sticky;
      top: 0;
      z-index: 2;
    }
    .filters {
      grid-template-columns: 200px minmax(0, 1fr) 170px auto;
    }
    .filters .q {
      grid-column: auto;
    }
  }
  .starred {
    display: flex;
    align-items: center;
    gap: 8px;
    font-weight: normal;
    min-height: 44px;
    white-space: nowrap;
  }
  .starred input {
    width: 20px;
    height: 20px;
    min-height: 0;
    margin: 0;
  }
  main {
    padding: 12px max(12px, env(safe-area-inset-left)) 24px max(12px, env(safe-area-inset-right));
    max-width: 1800px;
    margin: 0 auto;
  }
  .grid {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: 8px;
    grid-template-columns: repeat(2, minmax(0, 1fr));
  }
  @media (min-width: 640px) {
    .grid {
      grid-template-columns: repeat(auto-fill, minmax(190px, 1fr));
      gap: 12px;
    }
  }
  .thumb {
    display: block;
    width: 100%;
    padding: 0;
    border: 0;
    border-radius: 8px;
    overflow: hidden;
    background: #000;
    aspect-ratio: 1;
    position: relative;
  }
  .thumb img {
    display: block;
    width: 100%;
    height: 100%;
    object-fit: cover;
  }
  .thumb .star {
    position: absolute;
    top: 6px;
    right: 8px;
    color: #f2c14e;
    font-size: 1.2rem;
    text-shadow: 0 1px 3px #000;
  }
  .cap {
    display: grid;
    font-size: 0.8rem;
    padding: 4px 2px 0;
  }
  .cap span {
    white-space: nowrap;
    overflow: hidden;
    text-overflow: ellipsis;
  }
  .end {
    padding: 24px 0;
    text-align: center;
  }
  .gate {
    position: fixed;
    inset: 0;
    z-index: 20;
    overflow-y: auto;
    background: rgb(8 9 12 / 0.97);
  }
  .gate .cancel {
    display: block;
    margin: -12px auto 24px;
  }
`;
